-- The schema as smtpsniff 0.1 (schema version 1) created it, with a few
-- rows: tests/store/check.py migrates it and checks what the rows become.
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE sensors (  id INTEGER PRIMARY KEY,  name TEXT NOT NULL UNIQUE);
CREATE TABLE sessions (  id INTEGER PRIMARY KEY,  sensor_id INTEGER NOT NULL REFERENCES sensors(id),  uid TEXT NOT NULL,  client_ip TEXT NOT NULL, client_port INTEGER NOT NULL,  server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,  vlan TEXT NOT NULL,  ts_first TEXT NOT NULL, ts_last TEXT,  banner TEXT, helo TEXT, extensions TEXT, tls INTEGER NOT NULL,  auth_mechanism TEXT, auth_result TEXT,  transactions INTEGER, end_state TEXT,  gaps INTEGER, gap_bytes INTEGER, anomalies TEXT,  UNIQUE (sensor_id, uid));
CREATE TABLE messages (  id INTEGER PRIMARY KEY,  session_id INTEGER NOT NULL REFERENCES sessions(id),  trans_depth INTEGER NOT NULL,  ts TEXT NOT NULL,  helo TEXT, auth_mechanism TEXT, auth_result TEXT,  mail_from TEXT, status TEXT NOT NULL, last_reply TEXT,  size INTEGER,  hdr_from TEXT, hdr_to TEXT, hdr_cc TEXT, hdr_reply_to TEXT,  subject TEXT, message_id TEXT, in_reply_to TEXT, hdr_date TEXT,  user_agent TEXT, x_originating_ip TEXT, received TEXT,  anomalies TEXT,  UNIQUE (session_id, trans_depth));
CREATE TABLE recipients (  id INTEGER PRIMARY KEY,  message_id INTEGER NOT NULL REFERENCES messages(id),  addr TEXT NOT NULL, code INTEGER, enhanced TEXT,  accepted INTEGER NOT NULL);
CREATE TABLE attachments (  id INTEGER PRIMARY KEY,  message_id INTEGER NOT NULL REFERENCES messages(id),  filename TEXT, content_type TEXT, size INTEGER NOT NULL,  sha256 TEXT NOT NULL, truncated INTEGER NOT NULL);
CREATE TABLE alerts (  id INTEGER PRIMARY KEY,  sensor_id INTEGER NOT NULL REFERENCES sensors(id),  ts TEXT NOT NULL, kind TEXT NOT NULL, severity INTEGER,  host TEXT, session_uid TEXT, detail TEXT);
CREATE INDEX messages_ts ON messages(ts);
CREATE INDEX messages_from ON messages(mail_from);
CREATE INDEX recipients_addr ON recipients(addr);
CREATE INDEX recipients_message ON recipients(message_id);
CREATE INDEX attachments_sha256 ON attachments(sha256);
CREATE INDEX attachments_message ON attachments(message_id);
CREATE INDEX sessions_server ON sessions(server_ip, server_port);
CREATE INDEX sessions_client ON sessions(client_ip);
CREATE INDEX alerts_ts ON alerts(ts);
INSERT INTO schema_version VALUES (1);
INSERT INTO sensors VALUES (1, 'old');
INSERT INTO sessions (id, sensor_id, uid, client_ip, client_port, server_ip, server_port, vlan, ts_first, tls) VALUES (1, 1, 'Cold1', '192.0.2.7', 40000, '192.0.2.25', 25, '[]', '2020-01-02T03:04:05.000000Z', 0);
INSERT INTO messages (id, session_id, trans_depth, ts, mail_from, status, anomalies) VALUES (1, 1, 1, '2020-01-02T03:04:05.000000Z', 'Old.Sender@Example.ORG', 'accepted', '[]');
INSERT INTO recipients (message_id, addr, code, accepted) VALUES (1, 'Old.Rcpt@Example.NET', 250, 1);
