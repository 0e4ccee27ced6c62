"""The admin's review pages (Django admin, registered when the admin autodiscovers this package):

* ``faces``: the Faces list and face pages (the Face model belongs to images; its review pages
  are here), with thumbnails served by a cached admin view;
* ``matches``: pairs of faces to confirm (same person) or reject (different people);
* ``clusters``: suggested people to name, merge or split;
* ``subjects``: named people with their example thumbnails; merge; delete without data loss;
* ``rejections``: the pairs marked different (deleting one undoes the rejection).

Every action calls recognition's services (review, subjects), the same the REST API calls.
"""

from recognition.admin import clusters, faces, matches, rejections, subjects  # noqa: F401
