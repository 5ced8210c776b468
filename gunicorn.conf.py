# gunicorn reads this file from the working directory (the project root) on every start:
# Procfile, Dockerfile and docker-compose all run gunicorn from there. Command-line flags
# (bind, workers, access log) still come from each runner.
#
# Access and error lines go through ServiceHub's masking filter: no full phone number
# (admin searches put them in query strings) and no signed-link token in the logs.
logger_class = "servicehub.gunicorn_logging.MaskingLogger"
