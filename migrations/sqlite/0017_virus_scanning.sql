-- What the virus scanner made of each attachment: '' (no scanner
-- configured), 'clean', 'too_large' or 'unavailable' (not scanned).
ALTER TABLE attachments ADD COLUMN scan_status TEXT NOT NULL DEFAULT '';
