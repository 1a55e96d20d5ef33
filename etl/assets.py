"""Names shared by the DAG files (kept free of heavy imports: DAG files import this at parse time)."""
WAREHOUSE_ASSET_NAME = "iga_warehouse_projects"
WAREHOUSE_ASSET_URI = "postgres://iga-warehouse/iga/core/project"
