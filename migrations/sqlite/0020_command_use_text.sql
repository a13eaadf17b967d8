-- What followed the command when it was typed, for the command's log of uses.
ALTER TABLE slash_command_uses ADD COLUMN text TEXT NOT NULL DEFAULT '';
