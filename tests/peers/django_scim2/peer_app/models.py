from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim.models import AbstractSCIMGroupMixin, AbstractSCIMUserMixin


class User(AbstractSCIMUserMixin, AbstractUser):
    pass


class Group(AbstractSCIMGroupMixin):
    # django-scim2's adapters read a group's members as user_set and a user's groups as scim_groups.
    name = models.CharField(max_length=254)
    user_set = models.ManyToManyField(User, related_name="scim_groups", blank=True)
