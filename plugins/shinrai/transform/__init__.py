"""Transform: run dbt (dbt-duckdb) over the landing files into the warehouse."""
