// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The Redis names the kernel maps to small ids: the table, written into
 * redis_names at load, and read back as label values.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "http_server.h"
#include "redis.h"
#include "redis_names.h"

struct redis_name {
	const char *name;
	__u8 flags;
};

/*
 * Every command of Redis 7.2 but a few internal ones, in upper case: an
 * operation of its own, its id its index + 1. Anything else is _OTHER,
 * which bounds the operations of a service. Container commands (CLIENT,
 * CONFIG, ...) are one operation each, their subcommands not told apart.
 */
static const struct redis_name commands[] = {
	{ "GET", 0 },
	{ "SET", 0 },
	{ "SETNX", 0 },
	{ "SETEX", 0 },
	{ "PSETEX", 0 },
	{ "GETSET", 0 },
	{ "GETDEL", 0 },
	{ "GETEX", 0 },
	{ "MGET", 0 },
	{ "MSET", 0 },
	{ "MSETNX", 0 },
	{ "APPEND", 0 },
	{ "STRLEN", 0 },
	{ "INCR", 0 },
	{ "INCRBY", 0 },
	{ "INCRBYFLOAT", 0 },
	{ "DECR", 0 },
	{ "DECRBY", 0 },
	{ "GETRANGE", 0 },
	{ "SETRANGE", 0 },
	{ "LCS", 0 },
	{ "SUBSTR", 0 },
	{ "DEL", 0 },
	{ "UNLINK", 0 },
	{ "EXISTS", 0 },
	{ "EXPIRE", 0 },
	{ "PEXPIRE", 0 },
	{ "EXPIREAT", 0 },
	{ "PEXPIREAT", 0 },
	{ "EXPIRETIME", 0 },
	{ "PEXPIRETIME", 0 },
	{ "TTL", 0 },
	{ "PTTL", 0 },
	{ "PERSIST", 0 },
	{ "TYPE", 0 },
	{ "KEYS", 0 },
	{ "SCAN", 0 },
	{ "RENAME", 0 },
	{ "RENAMENX", 0 },
	{ "RANDOMKEY", 0 },
	{ "DUMP", 0 },
	{ "RESTORE", 0 },
	{ "MOVE", 0 },
	{ "COPY", 0 },
	{ "OBJECT", 0 },
	{ "TOUCH", 0 },
	{ "SORT", 0 },
	{ "SORT_RO", 0 },
	{ "MIGRATE", 0 },
	{ "HGET", 0 },
	{ "HSET", 0 },
	{ "HSETNX", 0 },
	{ "HMGET", 0 },
	{ "HMSET", 0 },
	{ "HGETALL", 0 },
	{ "HDEL", 0 },
	{ "HEXISTS", 0 },
	{ "HINCRBY", 0 },
	{ "HINCRBYFLOAT", 0 },
	{ "HKEYS", 0 },
	{ "HVALS", 0 },
	{ "HLEN", 0 },
	{ "HSTRLEN", 0 },
	{ "HSCAN", 0 },
	{ "HRANDFIELD", 0 },
	{ "LPUSH", 0 },
	{ "RPUSH", 0 },
	{ "LPUSHX", 0 },
	{ "RPUSHX", 0 },
	{ "LPOP", 0 },
	{ "RPOP", 0 },
	{ "LLEN", 0 },
	{ "LRANGE", 0 },
	{ "LINDEX", 0 },
	{ "LSET", 0 },
	{ "LINSERT", 0 },
	{ "LREM", 0 },
	{ "LTRIM", 0 },
	{ "LPOS", 0 },
	{ "LMOVE", 0 },
	{ "LMPOP", 0 },
	{ "RPOPLPUSH", 0 },
	{ "BLPOP", REDIS_CMD_BLOCKING },
	{ "BRPOP", REDIS_CMD_BLOCKING },
	{ "BLMOVE", REDIS_CMD_BLOCKING },
	{ "BLMPOP", REDIS_CMD_BLOCKING },
	{ "BRPOPLPUSH", REDIS_CMD_BLOCKING },
	{ "SADD", 0 },
	{ "SREM", 0 },
	{ "SMEMBERS", 0 },
	{ "SISMEMBER", 0 },
	{ "SMISMEMBER", 0 },
	{ "SCARD", 0 },
	{ "SPOP", 0 },
	{ "SRANDMEMBER", 0 },
	{ "SMOVE", 0 },
	{ "SINTER", 0 },
	{ "SINTERCARD", 0 },
	{ "SINTERSTORE", 0 },
	{ "SUNION", 0 },
	{ "SUNIONSTORE", 0 },
	{ "SDIFF", 0 },
	{ "SDIFFSTORE", 0 },
	{ "SSCAN", 0 },
	{ "ZADD", 0 },
	{ "ZREM", 0 },
	{ "ZSCORE", 0 },
	{ "ZMSCORE", 0 },
	{ "ZINCRBY", 0 },
	{ "ZCARD", 0 },
	{ "ZCOUNT", 0 },
	{ "ZRANGE", 0 },
	{ "ZRANGESTORE", 0 },
	{ "ZRANGEBYSCORE", 0 },
	{ "ZREVRANGEBYSCORE", 0 },
	{ "ZRANGEBYLEX", 0 },
	{ "ZREVRANGEBYLEX", 0 },
	{ "ZREVRANGE", 0 },
	{ "ZRANK", 0 },
	{ "ZREVRANK", 0 },
	{ "ZREMRANGEBYRANK", 0 },
	{ "ZREMRANGEBYSCORE", 0 },
	{ "ZREMRANGEBYLEX", 0 },
	{ "ZLEXCOUNT", 0 },
	{ "ZPOPMIN", 0 },
	{ "ZPOPMAX", 0 },
	{ "BZPOPMIN", REDIS_CMD_BLOCKING },
	{ "BZPOPMAX", REDIS_CMD_BLOCKING },
	{ "ZMPOP", 0 },
	{ "BZMPOP", REDIS_CMD_BLOCKING },
	{ "ZRANDMEMBER", 0 },
	{ "ZSCAN", 0 },
	{ "ZUNION", 0 },
	{ "ZUNIONSTORE", 0 },
	{ "ZINTER", 0 },
	{ "ZINTERSTORE", 0 },
	{ "ZINTERCARD", 0 },
	{ "ZDIFF", 0 },
	{ "ZDIFFSTORE", 0 },
	{ "XADD", 0 },
	{ "XREAD", REDIS_CMD_BLOCK_ARG },
	{ "XREADGROUP", REDIS_CMD_BLOCK_ARG },
	{ "XRANGE", 0 },
	{ "XREVRANGE", 0 },
	{ "XLEN", 0 },
	{ "XDEL", 0 },
	{ "XTRIM", 0 },
	{ "XACK", 0 },
	{ "XCLAIM", 0 },
	{ "XAUTOCLAIM", 0 },
	{ "XPENDING", 0 },
	{ "XGROUP", 0 },
	{ "XINFO", 0 },
	{ "XSETID", 0 },
	{ "SETBIT", 0 },
	{ "GETBIT", 0 },
	{ "BITCOUNT", 0 },
	{ "BITPOS", 0 },
	{ "BITOP", 0 },
	{ "BITFIELD", 0 },
	{ "BITFIELD_RO", 0 },
	{ "PFADD", 0 },
	{ "PFCOUNT", 0 },
	{ "PFMERGE", 0 },
	{ "GEOADD", 0 },
	{ "GEODIST", 0 },
	{ "GEOHASH", 0 },
	{ "GEOPOS", 0 },
	{ "GEORADIUS", 0 },
	{ "GEORADIUSBYMEMBER", 0 },
	{ "GEORADIUS_RO", 0 },
	{ "GEORADIUSBYMEMBER_RO", 0 },
	{ "GEOSEARCH", 0 },
	{ "GEOSEARCHSTORE", 0 },
	{ "PUBLISH", 0 },
	{ "SPUBLISH", 0 },
	{ "SUBSCRIBE", REDIS_CMD_SUBSCRIBE },
	{ "UNSUBSCRIBE", REDIS_CMD_SUBSCRIBE },
	{ "PSUBSCRIBE", REDIS_CMD_SUBSCRIBE },
	{ "PUNSUBSCRIBE", REDIS_CMD_SUBSCRIBE },
	{ "SSUBSCRIBE", REDIS_CMD_SUBSCRIBE },
	{ "SUNSUBSCRIBE", REDIS_CMD_SUBSCRIBE },
	{ "PUBSUB", 0 },
	{ "MULTI", 0 },
	{ "EXEC", 0 },
	{ "DISCARD", 0 },
	{ "WATCH", 0 },
	{ "UNWATCH", 0 },
	{ "EVAL", 0 },
	{ "EVALSHA", 0 },
	{ "EVAL_RO", 0 },
	{ "EVALSHA_RO", 0 },
	{ "SCRIPT", 0 },
	{ "FCALL", 0 },
	{ "FCALL_RO", 0 },
	{ "FUNCTION", 0 },
	{ "PING", 0 },
	{ "ECHO", 0 },
	{ "AUTH", 0 },
	{ "HELLO", 0 },
	{ "SELECT", 0 },
	{ "QUIT", 0 },
	{ "RESET", 0 },
	{ "CLIENT", 0 },
	{ "INFO", 0 },
	{ "CONFIG", 0 },
	{ "DBSIZE", 0 },
	{ "FLUSHDB", 0 },
	{ "FLUSHALL", 0 },
	{ "SAVE", 0 },
	{ "BGSAVE", 0 },
	{ "BGREWRITEAOF", 0 },
	{ "LASTSAVE", 0 },
	{ "TIME", 0 },
	{ "COMMAND", 0 },
	{ "MEMORY", 0 },
	{ "LATENCY", 0 },
	{ "SLOWLOG", 0 },
	{ "MONITOR", REDIS_CMD_MONITOR },
	{ "DEBUG", 0 },
	{ "SHUTDOWN", 0 },
	{ "REPLICAOF", 0 },
	{ "SLAVEOF", 0 },
	{ "ROLE", 0 },
	{ "SWAPDB", 0 },
	{ "ACL", 0 },
	{ "MODULE", 0 },
	{ "CLUSTER", 0 },
	{ "READONLY", 0 },
	{ "READWRITE", 0 },
	{ "ASKING", 0 },
	{ "WAIT", REDIS_CMD_BLOCKING },
	{ "WAITAOF", REDIS_CMD_BLOCKING },
	{ "FAILOVER", 0 },
	{ "PSYNC", 0 },
	{ "SYNC", 0 },
	{ "REPLCONF", 0 },
	{ "LOLWUT", 0 },
};

/*
 * Error prefixes, id index + 2 (1 is _OTHER), and whose fault the error
 * is: the client's (it asked for something wrong) or the server's (it
 * could not do what was asked). docs/redis.md says why each is which.
 */
static const struct redis_name errors[] = {
	{ "ERR", STATUS_CLASS_CLIENT_ERROR },
	{ "WRONGTYPE", STATUS_CLASS_CLIENT_ERROR },
	{ "NOSCRIPT", STATUS_CLASS_CLIENT_ERROR },
	{ "NOAUTH", STATUS_CLASS_CLIENT_ERROR },
	{ "WRONGPASS", STATUS_CLASS_CLIENT_ERROR },
	{ "NOPERM", STATUS_CLASS_CLIENT_ERROR },
	{ "NOPROTO", STATUS_CLASS_CLIENT_ERROR },
	{ "EXECABORT", STATUS_CLASS_CLIENT_ERROR },
	{ "BUSYGROUP", STATUS_CLASS_CLIENT_ERROR },
	{ "NOGROUP", STATUS_CLASS_CLIENT_ERROR },
	{ "BUSYKEY", STATUS_CLASS_CLIENT_ERROR },
	{ "CROSSSLOT", STATUS_CLASS_CLIENT_ERROR },
	{ "MOVED", STATUS_CLASS_CLIENT_ERROR },
	{ "ASK", STATUS_CLASS_CLIENT_ERROR },
	{ "UNBLOCKED", STATUS_CLASS_CLIENT_ERROR },
	{ "NOTBUSY", STATUS_CLASS_CLIENT_ERROR },
	{ "UNKILLABLE", STATUS_CLASS_CLIENT_ERROR },
	{ "OOM", STATUS_CLASS_SERVER_ERROR },
	{ "LOADING", STATUS_CLASS_SERVER_ERROR },
	{ "BUSY", STATUS_CLASS_SERVER_ERROR },
	{ "MASTERDOWN", STATUS_CLASS_SERVER_ERROR },
	{ "MISCONF", STATUS_CLASS_SERVER_ERROR },
	{ "READONLY", STATUS_CLASS_SERVER_ERROR },
	{ "NOREPLICAS", STATUS_CLASS_SERVER_ERROR },
	{ "CLUSTERDOWN", STATUS_CLASS_SERVER_ERROR },
	{ "TRYAGAIN", STATUS_CLASS_SERVER_ERROR },
};

/* The first element of a pub/sub message: what it is. */
static const struct redis_name push_kinds[] = {
	{ "MESSAGE", REDIS_PUSH_MESSAGE },
	{ "PMESSAGE", REDIS_PUSH_MESSAGE },
	{ "SMESSAGE", REDIS_PUSH_MESSAGE },
	{ "SUBSCRIBE", REDIS_PUSH_CONFIRM },
	{ "PSUBSCRIBE", REDIS_PUSH_CONFIRM },
	{ "SSUBSCRIBE", REDIS_PUSH_CONFIRM },
	{ "UNSUBSCRIBE", REDIS_PUSH_CONFIRM },
	{ "PUNSUBSCRIBE", REDIS_PUSH_CONFIRM },
	{ "SUNSUBSCRIBE", REDIS_PUSH_CONFIRM },
};

#define N(a)	(sizeof(a) / sizeof((a)[0]))

_Static_assert(N(commands) <= 255, "command ids are a byte");
_Static_assert(N(errors) + 1 <= 255, "error ids are a byte");
_Static_assert(N(commands) + N(errors) + N(push_kinds) <= REDIS_NAMES_MAX,
	       "redis_names must hold every name");

static int put(int fd, const char *name, __u8 kind, __u8 id, __u8 flags)
{
	struct redis_name_key key = {};
	struct redis_name_value v = { .id = id, .flags = flags };
	size_t len = strlen(name);

	if (len > REDIS_NAME_MAX)
		return -EINVAL;
	memcpy(key.name, name, len);
	key.len = len;
	key.kind = kind;
	return bpf_map_update_elem(fd, &key, &v, BPF_ANY) ? -errno : 0;
}

int redis_names__fill(int map_fd)
{
	int err = 0;

	for (size_t i = 0; i < N(commands) && !err; i++)
		err = put(map_fd, commands[i].name, REDIS_NAME_COMMAND, i + 1, commands[i].flags);
	for (size_t i = 0; i < N(errors) && !err; i++)
		err = put(map_fd, errors[i].name, REDIS_NAME_ERROR, i + 2, errors[i].flags);
	for (size_t i = 0; i < N(push_kinds) && !err; i++)
		err = put(map_fd, push_kinds[i].name, REDIS_NAME_PUSH, 0, push_kinds[i].flags);
	return err;
}

const char *redis_names__operation(__u8 id)
{
	return id && id <= N(commands) ? commands[id - 1].name : REDIS_OTHER_NAME;
}

const char *redis_names__status(__u16 status)
{
	if (status == REDIS_STATUS_OK)
		return "";
	return status >= 2 && (size_t)(status - 2) < N(errors) ? errors[status - 2].name
							     : REDIS_OTHER_NAME;
}

bool redis_names__known(const char *name)
{
	if (!strcmp(name, REDIS_OTHER_NAME))
		return true;
	for (size_t i = 0; i < N(commands); i++)
		if (!strcmp(commands[i].name, name))
			return true;
	return false;
}

unsigned int redis_names__commands(void)
{
	return N(commands);
}

unsigned int redis_names__errors(void)
{
	return N(errors);
}
