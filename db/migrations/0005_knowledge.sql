-- Knowledge graph: entities with aliases, typed relationships, provenance per candidate, and the
-- validation trail of every candidate (accepted or not). Candidate and fact ids are content
-- hashes, so every write is an idempotent upsert keyed by them: a retried commit lands on the
-- rows the first attempt wrote, never beside them.

create table if not exists knowledge_batches (
  id text primary key,                      -- the batch digest
  workflow_id text not null,
  source_uri text not null,
  state text not null check (state in ('validating', 'reviewing', 'committing', 'completed', 'failed')),
  policy jsonb not null,
  counts jsonb not null default '{}',
  created_at timestamptz not null default now(),
  finished_at timestamptz
);

create table if not exists knowledge_entities (
  id text primary key,
  type text not null check (type in ('person', 'organisation', 'product', 'place', 'date')),
  name text not null,
  norm_key text not null,
  -- Every key resolution looks names up by: the normalised name, acronym, surname, and the same for aliases.
  match_keys text[] not null default '{}',
  created_by_fact text,
  created_at timestamptz not null default now(),
  unique (type, norm_key)
);
create index if not exists knowledge_entities_match_keys on knowledge_entities using gin (match_keys);

create table if not exists knowledge_aliases (
  entity_id text not null references knowledge_entities (id),
  alias text not null,
  norm_key text not null,
  added_by_fact text,
  created_at timestamptz not null default now(),
  primary key (entity_id, alias)
);

create table if not exists knowledge_facts (
  id text primary key,
  subject_id text not null references knowledge_entities (id),
  predicate text not null,
  object_id text not null references knowledge_entities (id),
  confidence double precision not null,
  state text not null default 'accepted' check (state in ('accepted', 'retracted')),
  first_batch text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (subject_id, predicate, object_id)
);
create index if not exists knowledge_facts_object on knowledge_facts (object_id);

-- Each candidate of a batch, with its final validation state; the span text is the provenance.
create table if not exists knowledge_candidates (
  id text primary key,
  batch_id text not null references knowledge_batches (id),
  fact_id text,
  subject text not null,
  subject_type text not null,
  predicate text not null,
  object text not null,
  object_type text not null,
  confidence double precision not null,
  cues text[] not null default '{}',
  conversation text not null,
  source text not null,
  turn integer not null,
  speaker text,
  span_start integer not null,
  span_end integer not null,
  span_text text not null,
  extractor text not null,
  state text not null default 'pending' check (state in ('pending', 'accepted', 'rejected', 'review', 'committed')),
  reason text,
  updated_at timestamptz not null default now()
);
create index if not exists knowledge_candidates_batch on knowledge_candidates (batch_id);
create index if not exists knowledge_candidates_fact on knowledge_candidates (fact_id);

-- One row per stage decision per candidate: the validation trail.
create table if not exists knowledge_validation (
  candidate_id text not null references knowledge_candidates (id),
  seq integer not null,
  stage text not null,
  outcome text not null,
  reason text not null,
  fact_id text,
  primary key (candidate_id, seq)
);

-- Which candidates back which graph fact: written in the fact's commit transaction.
create table if not exists knowledge_provenance (
  candidate_id text primary key references knowledge_candidates (id),
  fact_id text not null references knowledge_facts (id),
  batch_id text not null,
  workflow_id text not null,
  committed_at timestamptz not null default now()
);
create index if not exists knowledge_provenance_fact on knowledge_provenance (fact_id);

-- The idempotency key of a commit: one row per (batch, fact), inserted in the same transaction.
create table if not exists knowledge_commits (
  batch_id text not null,
  fact_id text not null references knowledge_facts (id),
  workflow_id text not null,
  committed_at timestamptz not null default now(),
  primary key (batch_id, fact_id)
);

-- Borderline facts waiting for a person, across every running validation.
create table if not exists knowledge_reviews (
  workflow_id text not null,
  fact_id text not null,
  batch_id text not null,
  subject text not null,
  predicate text not null,
  object text not null,
  confidence double precision not null,
  sources integer not null,
  reason text not null,
  deadline timestamptz not null,
  default_decision text not null check (default_decision in ('accept', 'reject')),
  state text not null default 'waiting' check (state in ('waiting', 'accepted', 'rejected')),
  decided_by text,
  decision_reason text,
  decided_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (workflow_id, fact_id)
);
create index if not exists knowledge_reviews_waiting on knowledge_reviews (state, deadline);
