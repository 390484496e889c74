"""Operations: the release runbook's checks as commands (smoke), and data care."""
