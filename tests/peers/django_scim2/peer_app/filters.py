from __future__ import annotations

from typing import ClassVar

from django_scim.filters import FilterQuery
from django_scim.utils import get_group_model


class GroupFilterQuery(FilterQuery):
    """django-scim2 ships the group filter with no attributes mapped; a project maps displayName itself."""

    model_getter = get_group_model
    attr_map: ClassVar[dict] = {("displayName", None, None): "scim_display_name"}
