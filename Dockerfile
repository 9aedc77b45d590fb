# syntax=docker/dockerfile:1
# The one image of production Dagster: the webserver, the daemon, the code location's gRPC server
# and every run task (ECS) start from it, each with its own command (set by Terraform; no default
# entry point). It holds the locked environment WITHOUT the `spark` and `dev` dependency groups:
# in AWS the Glue jobs run in Glue, and the Dagster processes only start them, so no pyspark, no
# Java, no test tools. No credentials: the ECS task role and ECS `secrets` provide them at run time.
#
# The base image is pinned by tag. Pin it by digest too (python:3.11-slim-bookworm@sha256:...)
# where a registry is reachable to resolve one; both stages must use the same image because the
# virtualenv links to the base image's /usr/local/bin/python3.11.

FROM python:3.11-slim-bookworm AS builder

# Same uv as the Makefile's UV_VERSION (a test keeps the two equal).
ARG UV_VERSION=0.13.8
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/dagster/venv

WORKDIR /src

# Dependencies first (cached while only the code changes), then the project itself as a
# regular (non-editable) install of its wheel: lake_platform and glue_scripts/lake_glue.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-default-groups --no-install-project --no-editable

COPY README.md ./
COPY lake_platform ./lake_platform
COPY glue_scripts/lake_glue ./glue_scripts/lake_glue
RUN uv sync --locked --no-default-groups --no-editable


FROM python:3.11-slim-bookworm AS runtime

# Fixed UID/GID so that file ownership and ECS/EFS policies can name them.
RUN groupadd --system --gid 10001 dagster \
    && useradd --system --uid 10001 --gid dagster --home-dir /opt/dagster --no-create-home dagster

# The package is installed into site-packages, so the configs are found through LAKE_CONFIG_DIR
# rather than next to the source tree.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/dagster/venv/bin:${PATH} \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    LAKE_CONFIG_DIR=/opt/dagster/app/configs

COPY --from=builder /opt/dagster/venv /opt/dagster/venv
COPY configs /opt/dagster/app/configs
COPY deploy/workspace.yaml /opt/dagster/app/workspace.yaml
COPY deploy/dagster.yaml /opt/dagster/dagster_home/dagster.yaml

# DAGSTER_HOME stays writable for the processes' scratch files; dagster.yaml and the code
# stay root-owned, read-only to the service user.
RUN chown 10001:10001 /opt/dagster/dagster_home

WORKDIR /opt/dagster/app
USER 10001:10001

EXPOSE 3000 4000

# Each ECS service sets its command (webserver, daemon, code server; runs: dagster api execute_run).
CMD ["dagster", "--version"]
