"""Request bodies of the admin API (validated with pydantic; their JSON Schemas go into OpenAPI)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tollhouse.identity.records import RecordKind, Scopes


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateOrg(_Body):
    name: str
    id: str | None = None


class CreateTeam(_Body):
    org_id: str
    name: str
    id: str | None = None


class CreatePrincipal(_Body):
    kind: RecordKind
    org_id: str | None = Field(None, description="Defaults to the team's organisation.")
    team_id: str | None = None
    name: str
    id: str | None = None
    owner_id: str | None = Field(None, description="Required for agents: the user or service answerable.")
    roles: list[str] = []
    tags: list[str] = []
    can_delegate: bool = Field(False, description="Agents only: may act on behalf of users.")
    metadata: dict[str, str] = {}


class UpdatePrincipal(_Body):
    name: str | None = None
    roles: list[str] | None = None
    tags: list[str] | None = None
    can_delegate: bool | None = None
    disabled: bool | None = None
    metadata: dict[str, str] | None = None


class ScopesBody(_Body):
    models: list[str] = []
    surfaces: list[str] = []
    tools: list[str] = []
    agents: list[str] = []

    def scopes(self) -> Scopes:
        return Scopes(tuple(self.models), tuple(self.surfaces), tuple(self.tools), tuple(self.agents))


class CreateKey(_Body):
    principal_id: str
    name: str = ""
    scopes: ScopesBody = ScopesBody()
    expires_in_s: Annotated[float | None, Field(gt=0)] = None
    tags: list[str] = []
    metadata: dict[str, str] = {}


class UpdateKey(_Body):
    name: str | None = None
    scopes: ScopesBody | None = None
    tags: list[str] | None = None
    metadata: dict[str, str] | None = None
    expires_at: float | None = None


class RotateKey(_Body):
    grace_s: Annotated[float, Field(ge=0, le=30 * 86400)] = 3600.0


class PutPolicy(_Body):
    text: str = Field(description="Cedar policy text (one or more policies).")
    description: str = ""


class PolicyTest(_Body):
    principal: str = Field(description="A principal id from the directory.")
    action: str = Field(description="invoke_model, call_tool, send_message or an admin:* action.")
    resource: str = Field(description='Type::"id" or type:id, e.g. Model::"gpt-4o" or model:gpt-4o.')


class PutCredential(_Body):
    value: str = Field(description="The provider API key; stored encrypted, never returned.")


BODIES: tuple[type[BaseModel], ...] = (
    CreateOrg,
    CreateTeam,
    CreatePrincipal,
    UpdatePrincipal,
    CreateKey,
    UpdateKey,
    RotateKey,
    PutPolicy,
    PolicyTest,
    PutCredential,
)
