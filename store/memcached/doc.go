// Package memcached is a session store over memcached.
package memcached
