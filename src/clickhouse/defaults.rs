//! What ClickHouse uses when a repository holds only override files: the
//! security-relevant part of the configuration the server package ships,
//! written out as chlint's own minimal files. Findings never point here when a
//! repository file can be blamed instead.

/// The package's `config.xml`: no `listen_host` (so loopback only), the
/// plaintext HTTP, native, MySQL, PostgreSQL and interserver ports, users
/// from `users.xml`.
pub const SERVER_CONFIG: &str = r#"<clickhouse>
    <http_port>8123</http_port>
    <tcp_port>9000</tcp_port>
    <mysql_port>9004</mysql_port>
    <postgresql_port>9005</postgresql_port>
    <interserver_http_port>9009</interserver_http_port>
    <openSSL>
        <server>
            <verificationMode>none</verificationMode>
            <loadDefaultCAFile>true</loadDefaultCAFile>
            <cacheSessions>true</cacheSessions>
            <disableProtocols>sslv2,sslv3</disableProtocols>
            <preferServerCiphers>true</preferServerCiphers>
        </server>
        <client>
            <loadDefaultCAFile>true</loadDefaultCAFile>
            <cacheSessions>true</cacheSessions>
            <disableProtocols>sslv2,sslv3</disableProtocols>
            <preferServerCiphers>true</preferServerCiphers>
            <invalidCertificateHandler>
                <name>RejectCertificateHandler</name>
            </invalidCertificateHandler>
        </client>
    </openSSL>
    <path>/var/lib/clickhouse/</path>
    <user_directories>
        <users_xml>
            <path>users.xml</path>
        </users_xml>
        <local_directory>
            <path>/var/lib/clickhouse/access/</path>
        </local_directory>
    </user_directories>
    <remote_servers>
        <default>
            <shard>
                <replica>
                    <host>localhost</host>
                    <port>9000</port>
                </replica>
            </shard>
        </default>
    </remote_servers>
</clickhouse>
"#;

/// The package's `users.xml`: `default` with an empty password, open to any
/// network, with access management.
pub const USERS_CONFIG: &str = r#"<clickhouse>
    <profiles>
        <default></default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::/0</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
            <access_management>1</access_management>
            <named_collection_control>1</named_collection_control>
        </default>
    </users>
    <quotas>
        <default></default>
    </quotas>
</clickhouse>
"#;

/// The Keeper package's `keeper_config.xml`: client port 9181, one Raft
/// member on 9234, no `listen_host`.
pub const KEEPER_CONFIG: &str = r#"<clickhouse>
    <keeper_server>
        <tcp_port>9181</tcp_port>
        <server_id>1</server_id>
        <raft_configuration>
            <server>
                <id>1</id>
                <hostname>localhost</hostname>
                <port>9234</port>
            </server>
        </raft_configuration>
    </keeper_server>
</clickhouse>
"#;

/// What the official server image adds as
/// `config.d/docker_related_config.xml`: every IPv6 and IPv4 address, with
/// `listen_try` so that a host without one of the two families still starts.
pub const DOCKER_LISTEN_CONFIG: &str = r#"<clickhouse>
    <listen_host>::</listen_host>
    <listen_host>0.0.0.0</listen_host>
    <listen_try>1</listen_try>
</clickhouse>
"#;
