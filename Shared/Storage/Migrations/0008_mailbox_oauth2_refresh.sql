-- A mailbox secret may be an OAuth2 refresh grant (secret kind 'oauth2': token endpoint, client, refresh
-- token; sealed like every secret): the email ingestor then fetches a fresh access token for each login,
-- where 'xoauth2' holds one access token that lasts about an hour.
ALTER TABLE mailboxes DROP CONSTRAINT mailboxes_secret_kind_check;
ALTER TABLE mailboxes ADD CONSTRAINT mailboxes_secret_kind_check CHECK (secret_kind IN ('password', 'xoauth2', 'oauth2'));
