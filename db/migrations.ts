// Schema of the application store: the ticket projection lists and reports read, and the log of
// every notification sent. Migrations run at start (worker and API), once, under an advisory lock.
import type { Pool, PoolClient } from 'pg';
import { backfillDeskEvents } from './desk-events';

interface Migration {
  id: number;
  name: string;
  sql: string;
  /** Runs after `sql`, in the same transaction: rows that need code to be computed. */
  backfill?: (client: PoolClient) => Promise<void>;
}

const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'tickets and notifications',
    sql: `
      CREATE TABLE tickets (
        id               text PRIMARY KEY,
        workflow_id      text NOT NULL UNIQUE,
        external_id      text,
        channel          text NOT NULL,
        tier             smallint NOT NULL,
        priority         text NOT NULL,
        status           text NOT NULL,
        assignee         text,
        private          boolean NOT NULL,
        subject          text NOT NULL,
        created_at       timestamptz NOT NULL,
        acknowledged_at  timestamptz,
        resolved_at      timestamptz,
        closed_at        timestamptz,
        acknowledge_due_at timestamptz,
        resolution_due_at  timestamptz,
        breached         boolean NOT NULL DEFAULT false,
        escalations      integer NOT NULL DEFAULT 0,
        satisfaction     jsonb,
        version          integer NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX tickets_status_idx ON tickets (status, created_at);
      CREATE INDEX tickets_assignee_idx ON tickets (assignee, created_at);

      CREATE TABLE notifications (
        idempotency_key  text PRIMARY KEY,
        ticket_id        text NOT NULL,
        kind             text NOT NULL,
        audience         text NOT NULL,
        recipients       text[] NOT NULL,
        body             text NOT NULL,
        private          boolean NOT NULL,
        driver           text NOT NULL,
        sent_at          timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX notifications_ticket_idx ON notifications (ticket_id, sent_at);
    `,
  },
  {
    id: 2,
    name: 'external effects',
    sql: `
      CREATE TABLE external_effects (
        idempotency_key  text PRIMARY KEY,
        system           text NOT NULL,
        result           jsonb,
        created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
      );
    `,
  },
  {
    id: 35,
    name: 'webhook deliveries',
    // One row per inbound delivery, keyed on the sender's own id. The row is claimed on receipt and
    // completed once the delivery's action succeeded; a failed action releases it, so the sender's
    // redelivery acts again (api/webhooks/deliveries.ts).
    sql: `
      CREATE TABLE webhook_deliveries (
        source        text NOT NULL,
        delivery_id   text NOT NULL,
        received_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
        completed_at  timestamptz,
        PRIMARY KEY (source, delivery_id)
      );
    `,
  },
  {
    id: 20,
    name: 'work items (feature requests and bug reports)',
    // The projection the API lists from, and the way back from a tracker issue (project, iid) to its
    // workflow when a label changes on GitLab.
    sql: `
      CREATE TABLE work_items (
        id                   text PRIMARY KEY,
        workflow_id          text NOT NULL UNIQUE,
        kind                 text NOT NULL,
        external_id          text,
        title                text NOT NULL,
        stage                text NOT NULL,
        hold                 text,
        hold_reason          text,
        tracker_project      text,
        tracker_iid          integer,
        tracker_url          text,
        milestone            text,
        milestone_starts_at  timestamptz,
        created_at           timestamptz NOT NULL,
        stage_entered_at     timestamptz NOT NULL,
        closed_at            timestamptz,
        waiting_ms           bigint NOT NULL DEFAULT 0,
        blocked_ms           bigint NOT NULL DEFAULT 0,
        version              integer NOT NULL,
        updated_at           timestamptz NOT NULL DEFAULT now()
      );
      -- Not unique: the log driver numbers issues per process, and a clash must never wedge a
      -- workflow's projection writes; applyTrackerLabels takes the newest open item for an issue.
      CREATE INDEX work_items_tracker_idx ON work_items (tracker_project, tracker_iid);
      CREATE INDEX work_items_kind_stage_idx ON work_items (kind, stage, created_at);
    `,
  },
  {
    id: 10,
    name: 'incidents and security reports',
    // Projections the API lists from; the workflows keep them current (activities/incident.ts).
    sql: `
      CREATE TABLE incidents (
        id                  text PRIMARY KEY,
        workflow_id         text NOT NULL UNIQUE,
        external_id         text,
        title               text NOT NULL,
        severity            text NOT NULL,
        status              text NOT NULL,
        level               integer NOT NULL,
        crisis              boolean NOT NULL DEFAULT false,
        customer_ticket_id  text,
        desk_ticket_id      text,
        created_at          timestamptz NOT NULL,
        acknowledged_at     timestamptz,
        acknowledged_by     text,
        resolved_at         timestamptz,
        document_url        text,
        follow_up_url       text,
        follow_up_closed_at timestamptz,
        version             integer NOT NULL,
        updated_at          timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX incidents_status_idx ON incidents (status, created_at);

      CREATE TABLE security_reports (
        id                       text PRIMARY KEY,
        workflow_id              text NOT NULL UNIQUE,
        external_id              text,
        title                    text NOT NULL,
        severity                 text NOT NULL,
        reporter                 text NOT NULL,
        status                   text NOT NULL,
        created_at               timestamptz NOT NULL,
        respond_due_at           timestamptz,
        responded_at             timestamptz,
        breached                 boolean NOT NULL DEFAULT false,
        disclosure_requested_at  timestamptz,
        disclosure_due_at        timestamptz,
        scrubbed                 boolean NOT NULL DEFAULT false,
        fix_link                 text,
        published_at             timestamptz,
        version                  integer NOT NULL,
        updated_at               timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX security_reports_status_idx ON security_reports (status, created_at);
    `,
  },
  {
    id: 3,
    name: 'external effects are claimed before they act',
    // once() inserts its claim (a token) first and acts only if it won the claim; the result is
    // written under that token. A row without completed_at is an attempt still acting (or one that
    // died while acting): others wait for it instead of acting a second time (activities/effects.ts).
    sql: `
      ALTER TABLE external_effects ADD COLUMN claim_token uuid;
      ALTER TABLE external_effects ADD COLUMN claimed_at timestamptz;
      ALTER TABLE external_effects ADD COLUMN completed_at timestamptz;
      UPDATE external_effects SET completed_at = created_at, claimed_at = created_at;
      ALTER TABLE external_effects ALTER COLUMN claimed_at SET NOT NULL;
      ALTER TABLE external_effects ALTER COLUMN claimed_at SET DEFAULT clock_timestamp();
    `,
  },
  {
    id: 4,
    name: 'message bodies and the item event log',
    // Bodies of replies, questions and resolutions are stored once here (the API writes them before it
    // asks the workflow to act); workflows keep the id and a short preview. item_events is every
    // timeline entry of every item, appended by the projection writes, so the workflow itself keeps
    // only the latest entries. Both are keyed by the workflow chain (first run id), which survives
    // continue-as-new and is new when an id is reused after the namespace's retention.
    sql: `
      CREATE TABLE messages (
        id           text PRIMARY KEY,
        workflow_id  text NOT NULL,
        author       text NOT NULL,
        role         text NOT NULL,
        body         text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX messages_workflow_idx ON messages (workflow_id, created_at);

      CREATE TABLE item_events (
        workflow_id  text NOT NULL,
        chain_id     text NOT NULL,
        seq          integer NOT NULL,
        at           timestamptz NOT NULL,
        event        text NOT NULL,
        actor        text,
        note         text,
        message_id   text,
        PRIMARY KEY (workflow_id, chain_id, seq)
      );
    `,
  },
  {
    id: 5,
    name: 'ticket projection keyed by workflow chain',
    sql: `ALTER TABLE tickets ADD COLUMN chain_id text;`,
  },
  {
    id: 11,
    name: 'incident and security-report projections keyed by workflow chain',
    sql: `
      ALTER TABLE incidents ADD COLUMN chain_id text;
      ALTER TABLE security_reports ADD COLUMN chain_id text;
    `,
  },
  {
    id: 21,
    name: 'work-item projection keyed by workflow chain',
    sql: `ALTER TABLE work_items ADD COLUMN chain_id text;`,
  },
  {
    id: 36,
    name: 'webhook claims carry a token; refused deliveries are recorded',
    // Only the request holding the token completes or releases its claim, so a takeover after the
    // abandoned-claim timeout is never undone by the first, slow request. A delivery refused as
    // invalid is kept (outcome 'refused', with the reason): its redeliveries are answered, not acted on.
    sql: `
      ALTER TABLE webhook_deliveries ADD COLUMN claim_token uuid;
      ALTER TABLE webhook_deliveries ADD COLUMN outcome text;
      ALTER TABLE webhook_deliveries ADD COLUMN refusal text;
      UPDATE webhook_deliveries SET outcome = 'done' WHERE completed_at IS NOT NULL;
    `,
  },
  {
    id: 40,
    name: 'API keys',
    // Only a key's SHA-256 is kept: the key itself is shown once, when it is made (db/api-keys.ts).
    sql: `
      CREATE TABLE api_keys (
        id          text PRIMARY KEY,
        name        text NOT NULL,
        role        text NOT NULL,
        key_hash    text NOT NULL UNIQUE,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        revoked_at  timestamptz
      );
    `,
  },
  {
    id: 41,
    name: 'audit trail',
    // Every mutating request, appended and never changed: the trigger refuses UPDATE and DELETE.
    sql: `
      CREATE TABLE audit_log (
        id          bigserial PRIMARY KEY,
        at          timestamptz NOT NULL DEFAULT clock_timestamp(),
        request_id  text NOT NULL,
        principal   text NOT NULL,
        roles       text[] NOT NULL,
        credential  text,
        method      text NOT NULL,
        route       text NOT NULL,
        target      text,
        action      text,
        status      integer NOT NULL,
        outcome     text NOT NULL,
        source      text
      );
      CREATE INDEX audit_log_at_idx ON audit_log (at);
      CREATE INDEX audit_log_principal_idx ON audit_log (principal, at);
      CREATE INDEX audit_log_target_idx ON audit_log (target, at);
      CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
    `,
  },
  {
    id: 12,
    name: 'incidents say whether they are private',
    // A private emergency's timeline entries are sealed (db/sealed.ts); the row says which incidents
    // those are, for the timeline's readers and the sealing of rows written before. A row from before
    // had the neutral title publicIncidentTitle gives a private emergency, or came from a private ticket.
    sql: `
      ALTER TABLE incidents ADD COLUMN private boolean NOT NULL DEFAULT false;
      UPDATE incidents SET private = true
       WHERE title = 'Private emergency ' || id
          OR title = 'Emergency on ticket ' || desk_ticket_id
          OR desk_ticket_id IN (SELECT id FROM tickets WHERE private);
    `,
  },
  {
    id: 50,
    name: 'the reporting event log',
    // The reporting contract (README "Reports"): one row per timeline entry of every item, typed, with
    // the item's facts as the write that carried it saw them. Appended by the projection writes in the
    // same statement as the row; idempotent on (workflow_id, chain_id, seq). Rows that existed before
    // are backfilled from item_events (migration 52, backfillDeskEvents).
    sql: `
      CREATE TABLE desk_events (
        workflow_id    text NOT NULL,
        chain_id       text NOT NULL,
        seq            integer NOT NULL,
        item_id        text NOT NULL,
        kind           text NOT NULL,
        at             timestamptz NOT NULL,
        type           text NOT NULL,
        event          text NOT NULL,
        channel        text,
        tier           smallint,
        priority       text,
        region         text,
        assignee       text,
        level          smallint,
        target         text,
        to_value       text,
        open_delta     smallint NOT NULL DEFAULT 0,
        elapsed_ms     bigint,
        business_ms    bigint,
        score          smallint,
        said_resolved  boolean,
        PRIMARY KEY (workflow_id, chain_id, seq)
      );
      CREATE INDEX desk_events_type_at_idx ON desk_events (type, at);
      CREATE INDEX desk_events_kind_at_idx ON desk_events (kind, at);

      ALTER TABLE tickets ADD COLUMN region text;
      ALTER TABLE tickets ADD COLUMN first_reply_ms bigint;
      ALTER TABLE tickets ADD COLUMN first_reply_business_ms bigint;
      ALTER TABLE tickets ADD COLUMN resolution_ms bigint;
      ALTER TABLE tickets ADD COLUMN resolution_business_ms bigint;
      ALTER TABLE tickets ADD COLUMN paused_ms bigint NOT NULL DEFAULT 0;
      ALTER TABLE tickets ADD COLUMN acknowledge_sla text;
      ALTER TABLE tickets ADD COLUMN resolution_sla text;
      ALTER TABLE tickets ADD COLUMN resolution_target text;
      ALTER TABLE tickets ADD COLUMN reopens integer NOT NULL DEFAULT 0;
      CREATE INDEX tickets_created_idx ON tickets (created_at);
    `,
  },
  {
    id: 51,
    name: 'covering indexes for the reports',
    // Each report reads one of these alone (an index-only scan once autovacuum has marked the pages
    // all-visible): the entries of a type in a range with every column a report groups or measures by;
    // the entries that open or end an item; the tickets opened in a range with their standing.
    sql: `
      DROP INDEX desk_events_type_at_idx;
      CREATE INDEX desk_events_type_at_idx ON desk_events (type, at)
        INCLUDE (kind, workflow_id, channel, tier, priority, region, target, level, elapsed_ms, business_ms, score, said_resolved);
      CREATE INDEX desk_events_open_delta_idx ON desk_events (kind, at) INCLUDE (open_delta, type, channel, tier, priority, region)
        WHERE open_delta <> 0;
      DROP INDEX tickets_created_idx;
      CREATE INDEX tickets_created_idx ON tickets (created_at)
        INCLUDE (channel, tier, priority, region, assignee, acknowledge_sla, resolution_sla, resolution_target);
      CREATE INDEX desk_events_touch_idx ON desk_events (workflow_id) WHERE type IN ('replied', 'paused');
      CREATE INDEX tickets_resolved_idx ON tickets (resolved_at) INCLUDE (channel, tier, priority, region, resolution_ms, resolution_business_ms)
        WHERE resolved_at IS NOT NULL;
    `,
  },
  {
    id: 52,
    name: 'the event log backfilled',
    // Apart from the tables' DDL, so the backfill does not hold their exclusive locks while it runs.
    sql: '',
    backfill: (client) => backfillDeskEvents(client),
  },
  {
    id: 60,
    name: 'integration pace shared by every worker',
    // One row per write reserved for a (system, key): a Slack channel, a Zendesk ticket (activities/drivers/pacing.ts).
    sql: `
      CREATE TABLE integration_pace (
        system text NOT NULL,
        key text NOT NULL,
        at timestamptz NOT NULL
      );
      CREATE INDEX integration_pace_key_idx ON integration_pace (system, key, at);
    `,
  },
  {
    id: 61,
    name: 'indexes for the webhook lookups',
    // Each on the very expressions the lookup is written with, so none reads JSON row by row or the
    // whole table: a Slack message's ticket (api/webhooks/slack.ts, ticketOfSlackMessage: the result
    // once() kept for a post, then a direct message's own ticket) and an incident's follow-up issue
    // (api/webhooks/gitlab.ts). The rest already go by a key (webhook_deliveries, messages, tickets' id,
    // work_items_tracker_idx).
    sql: `
      CREATE INDEX external_effects_slack_post_idx ON external_effects ((result ->> 'ts'), (result ->> 'channel'), created_at)
        WHERE idempotency_key LIKE 'ticket-%';
      CREATE INDEX external_effects_follow_up_idx ON external_effects ((result ->> 'webUrl'))
        WHERE idempotency_key LIKE 'incident-%:follow-up';
      CREATE INDEX tickets_external_id_idx ON tickets (channel, external_id);
    `,
  },
  {
    id: 62,
    name: 'indexes for the retention batches',
    // Each batch walks its table in time order (activities/retention.ts); desk_events has (kind, at).
    sql: `
      CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (received_at);
      CREATE INDEX external_effects_created_idx ON external_effects (created_at, idempotency_key);
      CREATE INDEX notifications_sent_idx ON notifications (sent_at, idempotency_key);
    `,
  },
  // Each kind of work adds its own migrations below with its own id range:
  // incidents and security reports 10-19, feature requests and bug reports 20-29, integrations 30-39,
  // access (keys, audit, sealed columns) 40-49, reporting 50-59, operations (pacing, retention, indexes) 60-69.
];

/** Arbitrary but fixed: serialises migrations between the worker and the API starting together. */
const MIGRATION_LOCK = 7_301_001;

export async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ id: number }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.id));
    for (const m of MIGRATIONS) {
      if (applied.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        if (m.sql) await client.query(m.sql);
        await m.backfill?.(client);
        await client.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

/** Migrations this code knows that the database has not applied (none: the schema is current). */
export async function pendingMigrations(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ id: number }>(
    `SELECT id FROM schema_migrations`,
  ).catch((err: { code?: string }) => {
    if (err.code === '42P01') return { rows: [] as Array<{ id: number }> }; // never migrated
    throw err;
  });
  const applied = new Set(rows.map((r) => r.id));
  return MIGRATIONS.filter((m) => !applied.has(m.id)).map((m) => `${m.id} ${m.name}`);
}
