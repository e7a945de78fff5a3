"""The quality alert's Slack webhook URL is a credential (its last segment is Slack's secret). The
connections' passwords are masked by Airflow itself; the webhook comes from the environment, so
shinrai registers it with Airflow's secrets masker, and task logs show it redacted even where a
library logs the URL it posts to (urllib3 does, at DEBUG)."""

from __future__ import annotations

from airflow.sdk._shared.secrets_masker import redact

from shinrai.quality import gx

WEBHOOK = "http://127.0.0.1:9/services/T0SHINRAI/B0QUALITY/CANARYmaskme5f2c8e"


def test_the_quality_webhook_is_redacted_from_task_logs(monkeypatch):
    assert WEBHOOK in redact(f"POST {WEBHOOK}")  # not known to the masker yet
    monkeypatch.setenv(gx.WEBHOOK_VARIABLE, WEBHOOK)
    assert gx.runtime_environment()[gx.WEBHOOK_VARIABLE] == WEBHOOK  # GX still gets the real URL
    line = redact(f"Starting new HTTP connection (1): POST {WEBHOOK}")
    assert WEBHOOK not in line and "CANARYmaskme" not in line and "***" in line
