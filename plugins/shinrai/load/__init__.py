"""Landing: raw payloads and extraction state, one DuckDB file per source."""
