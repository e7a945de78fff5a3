"""Publishing for BI: the marts as a read-only DuckDB file and Parquet set (switched atomically),
dbt docs as one static page, and the monthly reliability report (self-contained HTML)."""

from shinrai.publish.layout import PublishLayout, layout
from shinrai.publish.publication import Publication, PublishError, publish_marts, read_publication

__all__ = ["Publication", "PublishError", "PublishLayout", "layout", "publish_marts", "read_publication"]
