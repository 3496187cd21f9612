class CreateProducts < ActiveRecord::Migration[7.1]
  def change
    create_table :products do |t|
      t.string :name, null: false
      t.decimal :price, precision: 10, scale: 2
      t.string :sku

      t.timestamps
    end
    add_index :products, :sku, unique: true
  end
end
