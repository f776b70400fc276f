-- Notifications that reach people (issue 12): where each user is reached, the
-- e-mails the outbox owes them, and what each has read.

-- A user's e-mail address (empty: none), how they want notifications
-- (email, webhook, none; empty: email when they have an address), the
-- language of their e-mails (en, zh-Hans; empty: English), and whether
-- reminders come in one daily digest rather than one e-mail each.
ALTER TABLE users
    ADD COLUMN email           text    NOT NULL DEFAULT '',
    ADD COLUMN notify_channel  text    NOT NULL DEFAULT '',
    ADD COLUMN language        text    NOT NULL DEFAULT '',
    ADD COLUMN reminder_digest boolean NOT NULL DEFAULT false;

-- The e-mail side of the outbox. A notification is expanded once into one row
-- per addressee who gets it by e-mail (a role's members with an address);
-- email_expanded_at says it was, so a later change of the directory does not
-- mail an old notification again.
ALTER TABLE notifications ADD COLUMN email_expanded_at timestamptz;
-- Only the rows not yet expanded are read by the dispatcher; existing ones are
-- marked expanded, so turning SMTP on does not mail the whole history.
UPDATE notifications SET email_expanded_at = now();
CREATE INDEX notifications_unexpanded ON notifications (id) WHERE email_expanded_at IS NULL;

-- One e-mail owed to one person for one notification. A dispatcher claims a
-- row by locking it (FOR UPDATE SKIP LOCKED) in a transaction that sends the
-- message and sets sent_at before it commits: a crash before the commit
-- releases the claim at once, and another dispatcher sends it again (with the
-- same Message-ID) — the at-least-once edge.
CREATE TABLE notification_emails (
    notification_id bigint      NOT NULL REFERENCES notifications (id),
    user_id         text        NOT NULL REFERENCES users (id),
    address         text        NOT NULL,
    language        text        NOT NULL DEFAULT '',
    -- A reminder to someone who chose the digest: sent with the others of
    -- the day in one e-mail, not on its own.
    digest          boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT '',
    -- When a failed e-mail is tried again; NULL: at once.
    next_attempt_at timestamptz,
    sent_at         timestamptz,
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX notification_emails_unsent ON notification_emails (notification_id) WHERE sent_at IS NULL;

-- Read state is per person: a notification to a role is read by each member
-- on their own.
CREATE TABLE notification_reads (
    notification_id bigint      NOT NULL REFERENCES notifications (id),
    user_id         text        NOT NULL,
    read_at         timestamptz NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);
