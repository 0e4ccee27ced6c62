"""Recognition: who the faces are. Subjects and their example faces, recognize/verify/detect
(served synchronously by the worker pool), image matches, suggested people (clusters) and
vector search with pgvector HNSW indexes. Subscribes to the image pipeline's ``faces_stored``.
"""
