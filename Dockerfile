# syntax=docker/dockerfile:1
# streamdrift: the `streamdrift` command (topics apply, worker, simulate, ...).
#   docker build -t streamdrift .
#   docker run --rm streamdrift --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# An unprivileged user; /data holds worker state (Faust tables, checkpoints). A named
# volume mounted there starts out owned by this user.
RUN groupadd --system --gid 10001 streamdrift \
    && useradd --system --uid 10001 --gid streamdrift --home-dir /home/streamdrift \
       --create-home --shell /usr/sbin/nologin streamdrift \
    && mkdir -p /data \
    && chown streamdrift:streamdrift /data

WORKDIR /app

# Only what the package needs; see .dockerignore.
COPY pyproject.toml README.md ./
COPY src ./src
COPY topics ./topics

RUN pip install --no-cache-dir . \
    && rm -rf build src/*.egg-info

USER streamdrift:streamdrift

# Workers serve Prometheus metrics here (--metrics-port).
EXPOSE 9100

ENTRYPOINT ["streamdrift"]
CMD ["--help"]
