package mysql

import (
	"context"
	"fmt"
	"strings"
)

// Limits on what a record's columns hold. Save rejects longer values
// rather than let a server in a non-strict sql_mode truncate them.
const (
	maxKey       = 255  // session_key VARBINARY(255)
	maxUserID    = 255  // user_id VARBINARY(255)
	maxIP        = 255  // ip VARBINARY(255)
	maxUserAgent = 1024 // user_agent VARBINARY(1024)
)

// schemaTemplate is the table Migrate creates; {table} stands for the
// table's name.
const schemaTemplate = "CREATE TABLE IF NOT EXISTS `{table}` (\n" +
	"  `session_key` VARBINARY(255) NOT NULL,\n" +
	"  `version` BIGINT UNSIGNED NOT NULL,\n" +
	"  `user_id` VARBINARY(255) NOT NULL,\n" +
	"  `created` BIGINT NOT NULL,\n" +
	"  `last_seen` BIGINT NOT NULL,\n" +
	"  `auth_time` BIGINT NOT NULL,\n" +
	"  `expires` BIGINT NOT NULL,\n" +
	"  `deadline` BIGINT NOT NULL,\n" +
	"  `live_until` BIGINT NOT NULL,\n" +
	"  `persistent` TINYINT NOT NULL,\n" +
	"  `touched` TINYINT NOT NULL,\n" +
	"  `ip` VARBINARY(255) NOT NULL,\n" +
	"  `user_agent` VARBINARY(1024) NOT NULL,\n" +
	"  `data` LONGBLOB NOT NULL,\n" +
	"  PRIMARY KEY (`session_key`),\n" +
	"  KEY `user_id` (`user_id`),\n" +
	"  KEY `live_until` (`live_until`)\n" +
	") ENGINE=InnoDB"

// Schema returns the statement that creates table and its indexes, for
// teams that run migrations with their own tools: the statement that
// [Store.Migrate] runs for a Store whose Config.Table is table. An empty
// table means [DefaultTable]. The statement is idempotent on MySQL and
// MariaDB alike (CREATE TABLE IF NOT EXISTS with its indexes inline).
// Schema reports an error if table is not a valid Config.Table.
func Schema(table string) (string, error) {
	cfg, err := Config{Table: table}.withDefaults()
	if err != nil {
		return "", err
	}
	return strings.Replace(schemaTemplate, "{table}", cfg.Table, 1), nil
}

// Migrate creates the store's table and its indexes if the table does not
// exist, and changes nothing if it does, so it is safe to call at every
// start. It runs the statement that [Schema] returns for its table; a
// program whose migrations run elsewhere need not call it.
func (s *Store) Migrate(ctx context.Context) error {
	ddl, err := Schema(s.table)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("mysql store: migrate: %w", err)
	}
	return nil
}
