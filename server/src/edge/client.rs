//! The client's address behind proxies. `X-Forwarded-For` and `Forwarded` are only believed
//! from the proxies the operator trusts: anyone else could name any address and slip past the
//! per-address limits. Each proxy appends the address it received from, so the chain is read
//! from the right: the first hop that is not a trusted proxy is the client.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

pub(super) fn trusted(trusted: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|net| net.contains(&ip))
}

/// An IPv4 peer on a dual-stack socket shows as `::ffff:a.b.c.d`; CIDRs are written as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The peer, unless it is a trusted proxy: then the rightmost hop of the forwarding chain that
/// is not trusted (`Forwarded` if present, else `X-Forwarded-For`). A hop that does not parse
/// (`unknown`, an obfuscated name) ends the walk at the last trusted hop, which is then the
/// address used: a client cannot hide behind garbage.
pub(super) fn client_addr(peer: SocketAddr, headers: &HeaderMap, nets: &[IpNet]) -> SocketAddr {
    if !trusted(nets, peer.ip()) {
        return peer;
    }
    let hops = forwarded_hops(headers).unwrap_or_else(|| x_forwarded_for_hops(headers));
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(addr) = hop else {
            return client;
        };
        client = *addr;
        if !trusted(nets, addr.ip()) {
            return client;
        }
    }
    client
}

/// `X-Forwarded-For: client, proxy1, proxy2` (every such header, in order).
fn x_forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<SocketAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// RFC 7239 `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`; `None` when the
/// header is absent.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<SocketAddr>>> {
    let mut values = headers.get_all("forwarded").iter().peekable();
    values.peek()?;
    Some(
        values
            .flat_map(|v| v.to_str().unwrap_or("").split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v.trim().trim_matches('"')))
            })
            .collect(),
    )
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:80`.
fn parse_node(node: &str) -> Option<SocketAddr> {
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(SocketAddr::new(canonical(addr.ip()), addr.port()));
    }
    let bare = node.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(canonical(ip), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("header value"));
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("cidr")).collect()
    }

    const PROXY: &str = "10.0.0.5:443";

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("socket address")
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        let got = client_addr(addr("203.0.113.9:5000"), &h, &nets(&["10.0.0.0/8"]));
        assert_eq!(got, addr("203.0.113.9:5000"), "the peer itself");
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            client_addr(addr(PROXY), &h, &trusted).ip(),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
        let h = headers(&[("forwarded", "for=\"[2001:db8::1]:4711\";proto=https")]);
        assert_eq!(
            client_addr(addr(PROXY), &h, &trusted),
            addr("[2001:db8::1]:4711"),
            "Forwarded with an IPv6 node and a port"
        );
    }

    #[test]
    fn a_spoofed_left_part_of_the_chain_is_skipped() {
        // The client sent `X-Forwarded-For: 6.6.6.6`; the proxy appended the real address.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")]);
        let got = client_addr(addr(PROXY), &h, &nets(&["10.0.0.0/8"]));
        assert_eq!(got.ip(), "198.51.100.7".parse::<IpAddr>().expect("ip"));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7, 10.1.1.1")]);
        let got = client_addr(addr(PROXY), &h, &nets(&["10.0.0.0/8"]));
        assert_eq!(got.ip(), "198.51.100.7".parse::<IpAddr>().expect("ip"));
    }

    #[test]
    fn garbage_stops_at_the_last_trusted_hop() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7, unknown")]);
        let got = client_addr(addr(PROXY), &h, &nets(&["10.0.0.0/8"]));
        assert_eq!(got, addr(PROXY), "not the address left of the garbage");
        let none = client_addr(addr(PROXY), &HeaderMap::new(), &nets(&["10.0.0.0/8"]));
        assert_eq!(none, addr(PROXY), "no header: the proxy itself");
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        let got = client_addr(addr("[::ffff:10.0.0.5]:443"), &h, &nets(&["10.0.0.0/8"]));
        assert_eq!(got.ip(), "198.51.100.7".parse::<IpAddr>().expect("ip"));
    }
}
