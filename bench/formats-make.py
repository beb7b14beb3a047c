"""Writes 100k x 768 float32 embeddings in every input format, for bench/formats.mjs.

    /usr/bin/python3 bench/formats-make.py DIR      (numpy, h5py, pandas, gensim from Debian)
    node bench/formats-make.mjs DIR                 (Parquet by DuckDB, Arrow by apache-arrow)

The files are large (about 5 GB together); they are not kept in the repository.
"""
import json
import os
import struct
import sys

import h5py
import numpy as np
from gensim.models import KeyedVectors

out = sys.argv[1]
N, D = 100_000, 768
rng = np.random.default_rng(14)
X = (rng.standard_normal((N, D)) * np.linspace(0.2, 2.0, D)).astype(np.float32)
p = lambda name: os.path.join(out, name)
np.save(p("emb.npy"), X)
np.savez(p("emb.npz"), emb=X)
np.savez_compressed(p("emb.compressed.npz"), emb=X)
h = json.dumps({"emb": {"dtype": "F32", "shape": [N, D], "data_offsets": [0, X.nbytes]}}).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(p("emb.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    f.write(X.tobytes())
with h5py.File(p("emb.h5"), "w") as f:
    f.create_dataset("emb", data=X)
np.savetxt(p("emb.csv"), X, fmt="%.8g", delimiter=",")
with open(p("emb.jsonl"), "w") as f:
    for i, r in enumerate(X):
        f.write('{"id": %d, "embedding": [%s]}\n' % (i, ",".join("%.8g" % v for v in r)))
kv = KeyedVectors(vector_size=D)
kv.add_vectors([f"w{i}" for i in range(N)], X)
kv.save_word2vec_format(p("emb.glove.txt"), binary=False, write_header=False)
kv.save_word2vec_format(p("emb.w2v.bin"), binary=True)
print("python part done")
