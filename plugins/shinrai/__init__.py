"""shinrai: reliability data pipeline."""
