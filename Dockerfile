# One image for every service; the command chooses service and role:
#   docker run servicedesk python -m services.intake.main all --port 8001
#   docker run servicedesk python -m services.migrate          # every table, once per release
# Built by `make up` (docker-compose.yml); deploy/k8s/ runs the same image.

# -- build: the project's runtime dependencies (pyproject.toml) in a virtualenv ---------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml ./
# Installed from pyproject.toml with empty packages first, so that a change to the code does
# not reinstall the dependencies; the code itself is copied into the runtime stage.
RUN mkdir schemas services && touch schemas/__init__.py services/__init__.py \
    && pip install . \
    && pip uninstall -y servicedesk

# -- assets: the pages' scripts, pinned by services/web/assets/package-lock.json (no CDN at run time)
FROM node:20-slim AS assets
WORKDIR /assets
COPY services/web/assets/package.json services/web/assets/package-lock.json services/web/assets/keep-served.sh ./
RUN npm ci --ignore-scripts --no-audit --no-fund && ./keep-served.sh node_modules

# -- runtime: the virtualenv and the source, as an unprivileged user -----------------------------
FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin servicedesk \
    && mkdir -p /data && chown servicedesk:servicedesk /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY schemas/ schemas/
COPY services/ services/
# Compiled once here: the image writes no bytecode at run time, and each start would compile the project anew.
RUN python -m compileall -q schemas services
COPY --from=assets /assets/node_modules services/web/assets/node_modules
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICEDESK_HTTP_HOST=0.0.0.0 \
    SERVICEDESK_SMTP_LISTEN_HOST=0.0.0.0 \
    SERVICEDESK_DATA_DIR=/data \
    SERVICEDESK_HEALTH_PORT=8001
USER 10001:10001
EXPOSE 8001 8002 8003 8004 8005 2525
# Ready = the store and Kafka answer (GET /health/ready is 200). Set SERVICEDESK_HEALTH_PORT to the
# port the command serves on (compose and Kubernetes declare their own checks).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ['SERVICEDESK_HEALTH_PORT'] + '/health/ready', timeout=4)"
CMD ["python", "-m", "services.intake.main", "all", "--port", "8001"]
