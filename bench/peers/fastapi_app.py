"""Peer for `make bench-worker`: a plain FastAPI + LightGBM `Booster.predict` scoring service, what
a team would write instead of the edge worker (the seed project was one). Same request and answer
shapes as the product's POST /predict ({"data": record | [records]} -> {"predictions": [...]}).

    PEER_DIR=target/bench/worker .venv/bin/uvicorn --app-dir bench/peers fastapi_app:app --port 8001

PEER_DIR holds model.txt (LightGBM) and schema.json (the bundle's schema and threshold), written
by bench/bench_worker.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import lightgbm as lgb
import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from peer_model import FeatureMap

PEER_DIR = Path(os.environ["PEER_DIR"])
BOOSTER = lgb.Booster(model_file=str(PEER_DIR / "model.txt"))
META = json.loads((PEER_DIR / "schema.json").read_text())
FEATURES = FeatureMap(META["schema"])
THRESHOLD = float(META["threshold"])

app = FastAPI()


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/predict")
async def predict(request: Request) -> JSONResponse:
    try:
        body = await request.json()
        data = body["data"]
        records = data if isinstance(data, list) else [data]
        rows = np.array([FEATURES.features(r) for r in records], dtype=np.float64)
    except (ValueError, KeyError, TypeError) as e:
        return JSONResponse({"error": {"code": "bad_request", "message": str(e)}}, status_code=422)
    probabilities = BOOSTER.predict(rows, num_threads=1)
    return JSONResponse(
        {
            "predictions": [
                {
                    "sk_id_curr": r.get("SK_ID_CURR"),
                    "probability": float(p),
                    "prediction": int(p >= THRESHOLD),
                }
                for r, p in zip(records, probabilities, strict=True)
            ],
            "threshold": THRESHOLD,
        }
    )
