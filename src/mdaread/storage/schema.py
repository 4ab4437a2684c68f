"""The workspace schema as an ordered list of forward migrations.

Migration N brings a database from schema version N-1 to N. A workspace records the highest
version applied in ``schema_version``; opening runs the missing migrations inside one
transaction, and refuses a workspace whose version is higher than ``SCHEMA_VERSION`` (written by
a newer mdaread). Migrations are append-only: never edit one that has shipped, add a new one.

Integrity rules live in the schema itself (triggers), so that even SQL typed by hand into the
sqlite3 shell cannot silently change a signed read or rewrite the audit trail.
"""

from __future__ import annotations

_V1_CORE = """
CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL
);
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL                -- JSON
);
CREATE TABLE users (
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('reader', 'adjudicator', 'data_manager')),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (name, role)
);
CREATE TABLE subjects (
    trial_id        TEXT PRIMARY KEY,
    centre          TEXT,
    arm             TEXT,               -- visible to the data manager role only
    treatment_date  TEXT,               -- YYYY-MM-DD
    created_at      TEXT NOT NULL
);
CREATE TABLE timepoints (
    id           INTEGER PRIMARY KEY,
    subject      TEXT NOT NULL REFERENCES subjects(trial_id),
    label        TEXT NOT NULL,
    nominal_day  INTEGER,
    scan_date    TEXT,                  -- YYYY-MM-DD
    UNIQUE (subject, label)
);
CREATE TABLE series (
    id                     INTEGER PRIMARY KEY,
    subject                TEXT NOT NULL REFERENCES subjects(trial_id),
    timepoint_id           INTEGER NOT NULL REFERENCES timepoints(id),
    series_uid             TEXT NOT NULL,
    key                    TEXT NOT NULL,
    study_uid              TEXT NOT NULL DEFAULT '',
    frame_of_reference_uid TEXT NOT NULL DEFAULT '',
    modality               TEXT NOT NULL DEFAULT '',
    description            TEXT NOT NULL DEFAULT '',
    study_date             TEXT NOT NULL DEFAULT '',
    shape                  TEXT NOT NULL,   -- JSON [k, j, i]
    spacing                TEXT NOT NULL,   -- JSON [x, y, z] mm
    origin                 TEXT NOT NULL,   -- JSON LPS mm
    direction              TEXT NOT NULL,   -- JSON 9 numbers, row by row
    content_hash           TEXT NOT NULL,   -- sha256 over the per-file sha256 digests in order
    n_files                INTEGER NOT NULL,
    imported_at            TEXT NOT NULL,
    UNIQUE (series_uid, key)
);
CREATE TABLE series_files (
    series_id  INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    path       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (series_id, idx)
);
CREATE TABLE registrations (
    id                  INTEGER PRIMARY KEY,
    baseline_series_id  INTEGER NOT NULL REFERENCES series(id),
    followup_series_id  INTEGER NOT NULL REFERENCES series(id),
    matrix              TEXT NOT NULL,   -- JSON 4x4 rows: baseline LPS mm -> follow-up LPS mm
    metric              REAL,
    quality             TEXT NOT NULL DEFAULT '',
    method              TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'proposed'
                        CHECK (status IN ('proposed', 'accepted', 'rejected')),
    created_by          TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    accepted_by         TEXT,
    accepted_at         TEXT
);
CREATE TABLE lesions (
    id             INTEGER PRIMARY KEY,
    subject        TEXT NOT NULL REFERENCES subjects(trial_id),
    lesion_id      TEXT NOT NULL,
    level          TEXT NOT NULL DEFAULT '',
    phenotype      TEXT NOT NULL DEFAULT '',
    well_defined   INTEGER NOT NULL DEFAULT 1,
    treated_index  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (subject, lesion_id)
);
CREATE TABLE reads (
    id                 INTEGER PRIMARY KEY,
    subject            TEXT NOT NULL REFERENCES subjects(trial_id),
    timepoint_id       INTEGER NOT NULL REFERENCES timepoints(id),
    reader             TEXT NOT NULL,
    purpose            TEXT NOT NULL CHECK (purpose IN ('primary', 'reread', 'adjudication')),
    status             TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed')),
    protocol           TEXT NOT NULL DEFAULT '{}',   -- JSON protocol settings
    criteria_version   TEXT NOT NULL DEFAULT '',
    observations       TEXT NOT NULL DEFAULT '{}',   -- JSON batch-form timepoint dict
    category           TEXT,
    final_category     TEXT,
    rule               TEXT,
    override_category  TEXT,
    override_reason    TEXT,
    blinded            INTEGER NOT NULL DEFAULT 0,
    supersedes         INTEGER REFERENCES reads(id),
    correction_reason  TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    signed_at          TEXT,
    CHECK (supersedes IS NULL OR length(trim(coalesce(correction_reason, ''))) > 0),
    CHECK (override_category IS NULL OR length(trim(coalesce(override_reason, ''))) > 0),
    CHECK (status = 'draft' OR signed_at IS NOT NULL)
);
CREATE TABLE measurements (
    id           INTEGER PRIMARY KEY,
    read_id      INTEGER NOT NULL REFERENCES reads(id),
    lesion_id    INTEGER NOT NULL REFERENCES lesions(id),
    timepoint_id INTEGER NOT NULL REFERENCES timepoints(id),
    long_mm      REAL,
    perp_mm      REAL,
    endpoints    TEXT NOT NULL DEFAULT '[]',  -- JSON [[x, y, z] LPS mm, ...]
    series_uid   TEXT NOT NULL DEFAULT '',
    method       TEXT NOT NULL DEFAULT 'manual' CHECK (method IN ('manual', 'semi-auto'))
);
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,   -- sqlite_sequence then reveals a cut tail
    at         TEXT NOT NULL,      -- UTC ISO 8601
    user       TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    before     TEXT,               -- JSON or NULL
    after      TEXT,               -- JSON or NULL
    reason     TEXT NOT NULL DEFAULT '',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE INDEX reads_by_subject ON reads(subject, timepoint_id);
CREATE INDEX measurements_by_read ON measurements(read_id);
CREATE INDEX series_by_subject ON series(subject, timepoint_id);

-- The audit trail is append-only.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: DELETE refused'); END;

-- A signed read never changes; a correction is a new read that supersedes it.
CREATE TRIGGER reads_signed_no_update BEFORE UPDATE ON reads WHEN OLD.status = 'signed'
BEGIN SELECT RAISE(ABORT, 'signed read is immutable: UPDATE refused'); END;
CREATE TRIGGER reads_signed_no_delete BEFORE DELETE ON reads WHEN OLD.status = 'signed'
BEGIN SELECT RAISE(ABORT, 'signed read is immutable: DELETE refused'); END;
CREATE TRIGGER reads_insert_draft BEFORE INSERT ON reads WHEN NEW.status <> 'draft'
BEGIN SELECT RAISE(ABORT, 'a read is created as a draft and signed afterwards'); END;
CREATE TRIGGER measurements_signed_no_insert BEFORE INSERT ON measurements
WHEN (SELECT status FROM reads WHERE id = NEW.read_id) = 'signed'
BEGIN SELECT RAISE(ABORT, 'signed read is immutable: measurement INSERT refused'); END;
CREATE TRIGGER measurements_signed_no_update BEFORE UPDATE ON measurements
WHEN (SELECT status FROM reads WHERE id = OLD.read_id) = 'signed'
BEGIN SELECT RAISE(ABORT, 'signed read is immutable: measurement UPDATE refused'); END;
CREATE TRIGGER measurements_signed_no_delete BEFORE DELETE ON measurements
WHEN (SELECT status FROM reads WHERE id = OLD.read_id) = 'signed'
BEGIN SELECT RAISE(ABORT, 'signed read is immutable: measurement DELETE refused'); END;
"""

_V2_ASSESSMENTS = """
-- Derived categories, recomputed when protocol settings change or a later timepoint resolves a
-- PDu; kept apart from reads so that recomputation never touches a signed read.
CREATE TABLE assessments (
    id                INTEGER PRIMARY KEY,
    subject           TEXT NOT NULL REFERENCES subjects(trial_id),
    timepoint_id      INTEGER NOT NULL REFERENCES timepoints(id),
    read_id           INTEGER REFERENCES reads(id),
    category          TEXT,
    final_category    TEXT,
    rule              TEXT,
    criteria_version  TEXT NOT NULL DEFAULT '',
    details           TEXT NOT NULL DEFAULT '{}',   -- JSON (spd, change %, warnings ...)
    computed_at       TEXT NOT NULL
);
CREATE INDEX assessments_by_subject ON assessments(subject, timepoint_id);
CREATE INDEX audit_by_entity ON audit(entity, entity_id);
"""

_V3_LEVELS = """
-- Vertebral levels the reader labels on a series ("this is L1"): one centre per level and
-- series, in that series' LPS mm. Re-labelling replaces the row (the audit keeps before/after).
CREATE TABLE level_labels (
    id           INTEGER PRIMARY KEY,
    series_id    INTEGER NOT NULL REFERENCES series(id),
    level        TEXT NOT NULL,
    center       TEXT NOT NULL,          -- JSON [x, y, z] LPS mm
    labelled_by  TEXT NOT NULL,
    labelled_at  TEXT NOT NULL,
    UNIQUE (series_id, level)
);
-- Where a registration was computed, and the point pairs of a landmark fit.
ALTER TABLE registrations ADD COLUMN center TEXT;           -- JSON [x, y, z] baseline LPS mm
ALTER TABLE registrations ADD COLUMN radius_mm REAL;
ALTER TABLE registrations ADD COLUMN level TEXT;            -- vertebral level of the centre
-- landmark_pairs: JSON [[[baseline x, y, z], [follow-up x, y, z]], ...] LPS mm
ALTER TABLE registrations ADD COLUMN landmark_pairs TEXT NOT NULL DEFAULT '[]';
ALTER TABLE registrations ADD COLUMN residual_mm REAL;      -- landmark fit RMS, mm
"""

_V4_ONE_PRIMARY_READ = """
-- One signed primary read per subject x timepoint: a second sign-off, even one racing the first
-- from another process, fails here rather than in a check before the write. A correction is not
-- an original (supersedes is set), so it does not collide with the read it corrects; each read is
-- superseded at most once, and only by a read of its own subject, timepoint and purpose.
CREATE UNIQUE INDEX reads_one_signed_primary ON reads(subject, timepoint_id)
WHERE purpose = 'primary' AND status = 'signed' AND supersedes IS NULL;
CREATE UNIQUE INDEX reads_superseded_once ON reads(supersedes) WHERE supersedes IS NOT NULL;
CREATE TRIGGER reads_correction_same_timepoint BEFORE INSERT ON reads
WHEN NEW.supersedes IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM reads o WHERE o.id = NEW.supersedes AND o.status = 'signed'
    AND o.subject = NEW.subject AND o.timepoint_id = NEW.timepoint_id
    AND o.purpose = NEW.purpose)
BEGIN SELECT RAISE(ABORT, 'a correction supersedes a signed read of its timepoint'); END;
"""

MIGRATIONS: tuple[str, ...] = (_V1_CORE, _V2_ASSESSMENTS, _V3_LEVELS, _V4_ONE_PRIMARY_READ)
"""MIGRATIONS[n] brings a workspace from schema version n to n + 1."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this mdaread writes."""
