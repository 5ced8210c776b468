# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext: compiled translations; curl: health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Build-time only: collectstatic and compilemessages need settings, not secrets.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput
RUN SECRET_KEY=build-only-not-secret python manage.py compilemessages --ignore=.venv

RUN useradd --create-home --uid 1000 app && chown -R app /app
USER app

EXPOSE 8000
CMD ["gunicorn", "servicehub.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
