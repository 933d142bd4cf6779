-- The archive schema at version 5 (before post_aliases and reported_embeds), frozen:
-- written once by the code of that version, never regenerated. tests/test_migrations.py
-- builds an old archive from it and migrates it forward.
CREATE TABLE "posts" (
   "key" TEXT PRIMARY KEY,
   "platform" TEXT NOT NULL,
   "post_id" TEXT NOT NULL,
   "url" TEXT,
   "author_handle" TEXT,
   "author_name" TEXT,
   "author_id" TEXT,
   "author_avatar" TEXT,
   "author_verified" TEXT,
   "text" TEXT,
   "html" TEXT,
   "lang" TEXT,
   "dir" TEXT,
   "created_at" TEXT,
   "date_text" TEXT,
   "status" TEXT NOT NULL DEFAULT 'unknown',
   "source" TEXT NOT NULL,
   "notice" TEXT,
   "truncated" INTEGER DEFAULT 0,
   "possibly_sensitive" INTEGER,
   "like_count" INTEGER,
   "reply_count" INTEGER,
   "card" TEXT,
   "edit_ids" TEXT,
   "quoted_post_key" TEXT,
   "reply_to_post_key" TEXT,
   "content_hash" TEXT,
   "first_seen_at" TEXT NOT NULL,
   "archived_at" TEXT,
   "status_changed_at" TEXT,
   "last_checked_at" TEXT,
   "next_check_at" TEXT,
   "check_count" INTEGER DEFAULT 0,
   "check_failures" INTEGER DEFAULT 0,
   "last_error" TEXT,
   "local_path" TEXT
);
CREATE TABLE "snapshots" (
   "id" INTEGER PRIMARY KEY,
   "post_key" TEXT NOT NULL REFERENCES "posts"("key"),
   "captured_at" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "content_hash" TEXT NOT NULL,
   "url" TEXT,
   "author_handle" TEXT,
   "author_name" TEXT,
   "author_id" TEXT,
   "text" TEXT,
   "html" TEXT,
   "lang" TEXT,
   "created_at" TEXT,
   "date_text" TEXT,
   "notice" TEXT,
   "truncated" INTEGER,
   "like_count" INTEGER,
   "reply_count" INTEGER,
   "card" TEXT,
   "edit_ids" TEXT,
   "media" TEXT,
   "quoted_post_key" TEXT,
   "reply_to_post_key" TEXT,
   "source_url" TEXT,
   "http_status" INTEGER,
   "fetched_at" TEXT,
   "raw" TEXT
);
CREATE INDEX "idx_snapshots_post_key_captured_at"
    ON "snapshots" ("post_key", "captured_at");
CREATE TABLE "articles" (
   "id" INTEGER PRIMARY KEY,
   "location" TEXT NOT NULL,
   "source" TEXT,
   "path" TEXT,
   "url" TEXT,
   "output_path" TEXT,
   "encoding" TEXT,
   "size" INTEGER,
   "mtime_ns" INTEGER,
   "content_hash" TEXT,
   "output_hash" TEXT,
   "etag" TEXT,
   "last_modified" TEXT,
   "embed_count" INTEGER DEFAULT 0,
   "first_seen_at" TEXT,
   "last_scanned_at" TEXT,
   "last_rewritten_at" TEXT,
   "removed_at" TEXT,
   "error" TEXT
);
CREATE UNIQUE INDEX "idx_articles_location"
    ON "articles" ("location");
CREATE TABLE "embeds" (
   "id" INTEGER PRIMARY KEY,
   "article_id" INTEGER NOT NULL REFERENCES "articles"("id"),
   "post_key" TEXT NOT NULL REFERENCES "posts"("key"),
   "ordinal" INTEGER NOT NULL,
   "form" TEXT NOT NULL,
   "start" INTEGER,
   "end" INTEGER,
   "original" TEXT,
   "found_at" TEXT
);
CREATE UNIQUE INDEX "idx_embeds_article_id_ordinal"
    ON "embeds" ("article_id", "ordinal");
CREATE INDEX "idx_embeds_post_key"
    ON "embeds" ("post_key");
CREATE TABLE "media" (
   "id" INTEGER PRIMARY KEY,
   "post_key" TEXT NOT NULL REFERENCES "posts"("key"),
   "ordinal" INTEGER,
   "kind" TEXT NOT NULL,
   "url" TEXT NOT NULL,
   "local_path" TEXT,
   "poster_url" TEXT,
   "poster_local_path" TEXT,
   "content_type" TEXT,
   "bytes" INTEGER,
   "width" INTEGER,
   "height" INTEGER,
   "alt_text" TEXT,
   "sha256" TEXT,
   "captured_at" TEXT
);
CREATE UNIQUE INDEX "idx_media_post_key_kind_url"
    ON "media" ("post_key", "kind", "url");
CREATE TABLE "runs" (
   "id" INTEGER PRIMARY KEY,
   "kind" TEXT,
   "started_at" TEXT,
   "finished_at" TEXT,
   "outcome" TEXT,
   "summary" TEXT,
   "error" TEXT,
   "pid" INTEGER
);
CREATE INDEX "idx_posts_next_check_at"
    ON "posts" ("next_check_at");
CREATE INDEX "idx_posts_status"
    ON "posts" ("status");
CREATE INDEX "idx_posts_author_handle"
    ON "posts" ("author_handle");
CREATE INDEX "idx_posts_created_at"
    ON "posts" ("created_at");
CREATE INDEX "idx_articles_output_path"
    ON "articles" ("output_path");
CREATE VIRTUAL TABLE "posts_fts" USING FTS5 (
    "text", "author_name", "author_handle",
    tokenize='unicode61 remove_diacritics 2 categories ''L* N* Co M*''',
    content="posts"
);
CREATE TRIGGER "posts_ai" AFTER INSERT ON "posts" BEGIN
  INSERT INTO "posts_fts" (rowid, "text", "author_name", "author_handle") VALUES (new.rowid, new."text", new."author_name", new."author_handle");
END;
CREATE TRIGGER "posts_ad" AFTER DELETE ON "posts" BEGIN
  INSERT INTO "posts_fts" ("posts_fts", rowid, "text", "author_name", "author_handle") VALUES('delete', old.rowid, old."text", old."author_name", old."author_handle");
END;
CREATE TRIGGER "posts_au" AFTER UPDATE ON "posts" BEGIN
  INSERT INTO "posts_fts" ("posts_fts", rowid, "text", "author_name", "author_handle") VALUES('delete', old.rowid, old."text", old."author_name", old."author_handle");
  INSERT INTO "posts_fts" (rowid, "text", "author_name", "author_handle") VALUES (new.rowid, new."text", new."author_name", new."author_handle");
END;
CREATE INDEX "idx_posts_quoted_post_key"
    ON "posts" ("quoted_post_key");
CREATE INDEX "idx_posts_reply_to_post_key"
    ON "posts" ("reply_to_post_key");
PRAGMA user_version = 5;
