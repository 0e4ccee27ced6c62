"""Recognition: subjects and their example faces, recognize/verify/detect, image matches,
suggested people (clusters) and vector search with pgvector HNSW indexes.

The schema (Subject, Cluster, Face, Match) lives in ``api.models``; this app adds behaviour,
endpoints, the HNSW index migration and the admin review pages.
"""
