"""The environment variables nba-dq reads, and what each may hold, validated with dq.toml at load.

A typo here is as silent as one in dq.toml: `NBA_DQ_ENV=Production` is not production, so an unset
Slack destination would no longer be fatal; `SLACK_WEBHOOK_URL=not-a-url` fails only when the first
alert is sent. An empty variable counts as unset. Webhook URLs, the bot token and the signing secret are
secrets: a problem names the variable, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from warehouse.config_errors import env_problems
from warehouse.config_service import TOPIC_PATH
from warehouse.config_types import GCS_URL, HTTP_URL, WAREHOUSE_URL, ExportRoot

CONFIG = "NBA_DQ_CONFIG"
GX_ROOT = "NBA_DQ_GX_ROOT"
WAREHOUSE = "NBA_DQ_WAREHOUSE"
EXPORT_ROOT = "NBA_DQ_EXPORT_ROOT"
DOCS_BUCKET = "NBA_DQ_DOCS_BUCKET"
STATE_URL = "NBA_DQ_STATE_URL"
BIGQUERY_ENDPOINT = "NBA_DQ_BIGQUERY_ENDPOINT"  # a local BigQuery emulator (tests), else Google
PUSH_AUDIENCE = "NBA_DQ_PUSH_AUDIENCE"  # `nba-dq serve`: the OIDC audience its push tokens must carry
VERDICT_TOPIC = "NBA_DQ_VERDICT_TOPIC"  # `nba-dq serve`: where verdicts are published
PUSH_AUTH, AUTH_OFF = "NBA_DQ_PUSH_AUTH", "off"  # "off": no token check (local use; refused in production)
ENVIRONMENT, DEVELOPMENT, PRODUCTION = "NBA_DQ_ENV", "development", "production"
WEBHOOK_DEFAULT = "SLACK_WEBHOOK_URL"
WEBHOOK_WARNING = "SLACK_WEBHOOK_URL_WARNING"
WEBHOOK_ERROR = "SLACK_WEBHOOK_URL_ERROR"
BOT_TOKEN = "SLACK_BOT_TOKEN"
SIGNING_SECRET = "SLACK_SIGNING_SECRET"  # `nba-dq serve`: the Slack app's key for the signature on button clicks
SECRETS = (WEBHOOK_DEFAULT, WEBHOOK_WARNING, WEBHOOK_ERROR, BOT_TOKEN, SIGNING_SECRET)
SCHEME_ONLY = (WAREHOUSE,)  # a wrong URL may carry a password (postgresql://user:pass@host): show its scheme

HttpUrl = Annotated[StrictStr, Field(pattern=HTTP_URL)]


class Environment(BaseModel):
    """The variables that are set (by their names); others in the environment are not nba-dq's."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    config: StrictStr | None = Field(None, alias=CONFIG)
    gx_root: StrictStr | None = Field(None, alias=GX_ROOT)
    warehouse: Annotated[StrictStr, Field(pattern=WAREHOUSE_URL)] | None = Field(None, alias=WAREHOUSE)
    export_root: ExportRoot | None = Field(None, alias=EXPORT_ROOT)
    docs_bucket: Annotated[StrictStr, Field(pattern=GCS_URL)] | None = Field(None, alias=DOCS_BUCKET)
    state_url: Annotated[StrictStr, Field(pattern=GCS_URL)] | None = Field(None, alias=STATE_URL)
    bigquery_endpoint: HttpUrl | None = Field(None, alias=BIGQUERY_ENDPOINT)
    mode: Literal[DEVELOPMENT, PRODUCTION] | None = Field(None, alias=ENVIRONMENT)
    push_audience: StrictStr | None = Field(None, alias=PUSH_AUDIENCE)
    verdict_topic: Annotated[StrictStr, Field(pattern=TOPIC_PATH)] | None = Field(None, alias=VERDICT_TOPIC)
    push_auth: Literal["on", AUTH_OFF] | None = Field(None, alias=PUSH_AUTH)
    webhook_default: HttpUrl | None = Field(None, alias=WEBHOOK_DEFAULT)
    webhook_warning: HttpUrl | None = Field(None, alias=WEBHOOK_WARNING)
    webhook_error: HttpUrl | None = Field(None, alias=WEBHOOK_ERROR)
    bot_token: StrictStr | None = Field(None, alias=BOT_TOKEN)
    signing_secret: StrictStr | None = Field(None, alias=SIGNING_SECRET)

    @property
    def production(self) -> bool:
        return self.mode == PRODUCTION


def read_environment(env: Mapping[str, str], problems: list[str]) -> Environment | None:
    """The validated variables, or None with a line per wrong one appended to `problems`."""
    names = [field.alias for field in Environment.model_fields.values() if field.alias]
    values = {name: env[name].strip() for name in names if env.get(name, "").strip()}
    try:
        return Environment.model_validate(values)
    except ValidationError as error:
        problems.extend(env_problems(error, SECRETS, SCHEME_ONLY))
        return None
