"""Skills: manifests, the template catalogue, installation into workspaces, the report envelope.

Deliberately empty: every skill script imports ``talkative.skills.report``, so importing this
package must not pull in pydantic, YAML or anything else slow.
"""
