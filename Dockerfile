# nba-dq's image for Google Cloud Run: `nba-dq serve` (the Pub/Sub push service) by default; the same
# image runs as a Cloud Run job with other arguments (`nba-dq sweep`, `nba-dq audit ...`). README:
# "Deploying on Google Cloud". Secrets (Slack) come from Secret Manager into the environment at run
# time, never from this file; tests/test_container.py holds this file to that and to the points below.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The runtime dependencies exactly as locked (`make lock`): every file checked against its hash, nothing
# resolved here, wheels only (the slim image has no compiler). A layer of its own: it changes with the lock.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps --only-binary=:all: -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

# nba-dq itself, without dependencies and without fetching anything: its build backend (setuptools) is
# in the lock, hence --no-build-isolation --no-index.
WORKDIR /app
COPY . /app
RUN pip install --no-deps --no-build-isolation --no-index /app \
    && rm -rf /app/build /app/*.egg-info

# The installed package is not beside dq.toml and gx/, so name them. The GX folder's uncommitted/
# (validation results, Data Docs before upload, local state) is the only place the process writes; on
# Cloud Run it lives in memory for one instance, and shared state goes to NBA_DQ_STATE_URL (a GCS prefix).
ENV NBA_DQ_CONFIG=/app/dq.toml \
    NBA_DQ_GX_ROOT=/app/gx \
    PORT=8080
RUN useradd --system --uid 10001 --create-home --home-dir /home/nba-dq nba-dq \
    && mkdir -p /app/gx/uncommitted \
    && chown nba-dq:nba-dq /app/gx/uncommitted
USER nba-dq

EXPOSE 8080
CMD ["nba-dq", "serve"]
