"""Files read and written side by side: .npz (safe reader, atomic writes), safetensors and
torch weights, BSON.jl, networks, the authors' data on demand."""
