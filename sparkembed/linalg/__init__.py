"""Linear algebra shared by stages: a sparse matrix in Spark as packed CSR blocks and its
randomized SVD (``sharded``), blocked top-k cosine search (``topk``), spherical k-means
(``kmeans``)."""
