"""`python -m benchmarks`: generate the inputs, measure, print the table, write results.md."""

import sys

from benchmarks.run import main

sys.exit(main())
