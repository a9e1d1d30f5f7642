"""walks: random walks over a graph (DeepWalk, weighted, node2vec), written as sentences so
cooccur and train embed the vertices. The walker is here; the stage that reads edge lists
and GraphFrames and runs it on Spark is being built on it."""
