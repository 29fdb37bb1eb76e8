# The API for docker-compose.yml: the embedded server with the Firestore / Cloud Storage /
# Pub/Sub adapters, pointed at the emulators by *_EMULATOR_HOST. Build context: the repo root.
#   docker build -f local_emulator/api.Dockerfile -t ainimal-zookeeper-api:local .
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 OMP_NUM_THREADS=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY examples ./examples
RUN pip install --no-cache-dir ".[gcp]" && useradd --create-home zookeeper
# The same config the Cloud Function gets (every cloud setting from the environment) and the
# catalog folder its relative paths point into.
COPY infra/terraform/config/zoo.yaml /config/zoo.yaml
COPY examples /config/catalog
USER zookeeper
# ./zookeeper-data (local scratch for workers run as processes) lands in the user's home.
WORKDIR /home/zookeeper
EXPOSE 8000
CMD ["python", "-m", "ainimal_zookeeper.server", "--config", "/config/zoo.yaml", "--host", "0.0.0.0"]
