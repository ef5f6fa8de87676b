# The CMDB application image (docker-compose.yml runs it with Neo4j 5).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# A CJK font for labels and pages with Chinese names.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cmdb ./cmdb
COPY schema ./schema
COPY labels ./labels
COPY importers ./importers
RUN pip install . && useradd --system --home /app cmdb
USER cmdb

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz'); sys.exit(0)"
CMD ["cmdb", "serve", "--host", "0.0.0.0", "--port", "8000"]
