#!/usr/bin/env python3
"""PyTorch reference for bench/extract.ts: a BERT-base forward pass (random weights, eval mode,
inference only) written the way Hugging Face transformers' BertModel runs it on CPU (eager
attention: Q K^T / sqrt(dh) + mask, softmax, P V; exact-erf GELU), timed on the same padded
batches our extractor gets. Needs Debian's python3-torch (run with /usr/bin/python3); bench
machine only, never needed by the tests.

    /usr/bin/python3 bench/extract_reference.py SPEC.json

SPEC.json: {"threads": 2, "poolings": [...] (ignored here: the model always returns cls, pooler
and mean, as BertModel computes the full last layer), "cases": [{"label": "...", "batches": [[len, len, ...], ...],
"repeats": 1}, ...]}: every batch is padded to its longest sentence, as a transformers
DataLoader with a padding collator does. Prints one JSON object per case on stdout:
{"label", "sentences", "tokens", "padded", "seconds": [per repeat], "cpuSeconds": [process CPU
time, all threads, per repeat]}, and a first line {"torch": version, "threads": n, "blas": ...,
"openblas": core type when torch's BLAS is OpenBLAS}.

Weights: N(0, 0.02) like BERT's initializer; the values do not change the time.
"""

import ctypes
import json
import sys
import time

import torch
import torch.nn.functional as F

D, LAYERS, HEADS, INTER, VOCAB, POSITIONS = 768, 12, 12, 3072, 30522, 512


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q = torch.nn.Linear(D, D)
        self.k = torch.nn.Linear(D, D)
        self.v = torch.nn.Linear(D, D)
        self.o = torch.nn.Linear(D, D)
        self.ln1 = torch.nn.LayerNorm(D, eps=1e-12)
        self.i = torch.nn.Linear(D, INTER)
        self.f = torch.nn.Linear(INTER, D)
        self.ln2 = torch.nn.LayerNorm(D, eps=1e-12)

    def forward(self, x, bias):
        b, t, _ = x.shape
        dh = D // HEADS

        def heads(y):
            return y.view(b, t, HEADS, dh).permute(0, 2, 1, 3)

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / (dh ** 0.5) + bias
        ctx = torch.matmul(F.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).reshape(b, t, D)
        a = self.ln1(self.o(ctx) + x)
        return self.ln2(self.f(F.gelu(self.i(a))) + a)


class Bert(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.word = torch.nn.Embedding(VOCAB, D)
        self.pos = torch.nn.Embedding(POSITIONS, D)
        self.token_type = torch.nn.Embedding(2, D)
        self.ln = torch.nn.LayerNorm(D, eps=1e-12)
        self.layers = torch.nn.ModuleList(Layer() for _ in range(LAYERS))
        self.pooler = torch.nn.Linear(D, D)

    def forward(self, ids, mask):
        b, t = ids.shape
        pos = torch.arange(t).unsqueeze(0)
        x = self.ln(self.word(ids) + self.pos(pos) + self.token_type(torch.zeros_like(ids)))
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, bias)
        cls = x[:, 0]
        pooled = torch.tanh(self.pooler(cls))
        m = mask.unsqueeze(-1).to(x.dtype)
        mean = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return cls, pooled, mean


def batch(lengths, gen):
    t = max(lengths)
    ids = torch.zeros(len(lengths), t, dtype=torch.long)
    mask = torch.zeros(len(lengths), t, dtype=torch.long)
    for r, n in enumerate(lengths):
        ids[r, :n] = torch.randint(1000, 30000, (n,), generator=gen)
        ids[r, 0], ids[r, n - 1] = 101, 102
        mask[r, :n] = 1
    return ids, mask


def openblas_core():
    """The core type of the OpenBLAS this process loaded (torch's BLAS on Debian), or None."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_num_threads.restype = ctypes.c_int
        return f"{lib.openblas_get_corename().decode()} ({lib.openblas_get_num_threads()} threads)"
    except (OSError, AttributeError):
        return None


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(int(spec.get("threads", 2)))
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(7)
    model = Bert().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
    blas = "unknown"
    try:
        blas = torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0]
    except IndexError:
        pass
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
                      "openblas": openblas_core()}), flush=True)
    with torch.inference_mode():
        model(*batch([16, 16], gen))  # warm-up: first-call allocations and thread start
        for case in spec["cases"]:
            data = [batch(lengths, gen) for lengths in case["batches"]]
            seconds, cpu_seconds = [], []
            for _ in range(int(case.get("repeats", 1))):
                t0, c0 = time.perf_counter(), time.process_time()
                for ids, mask in data:
                    model(ids, mask)
                seconds.append(time.perf_counter() - t0)
                cpu_seconds.append(time.process_time() - c0)
            print(json.dumps({
                "label": case["label"],
                "sentences": sum(len(l) for l in case["batches"]),
                "tokens": sum(sum(l) for l in case["batches"]),
                "padded": sum(len(l) * max(l) for l in case["batches"]),
                "seconds": seconds,
                "cpuSeconds": cpu_seconds,
            }), flush=True)


if __name__ == "__main__":
    main()
