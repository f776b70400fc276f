-- Sessions of the web console (scs): the browser holds only the session's
-- random token, in an HttpOnly cookie; what it stands for is kept here, under
-- the token's digest.
CREATE TABLE sessions (
    token  text        PRIMARY KEY, -- sha256 of the cookie's token, hex
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);
