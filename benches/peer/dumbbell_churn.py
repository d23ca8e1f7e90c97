"""ns-3 (3.44, Python bindings) version of timewait's dumbbell churn benchmark.

10 client/server pairs share a 100 Mb/s, 5 ms bottleneck (1 Gb/s, 1 ms access links); each
pair makes CONNS connections, one every 10 ms, and each carries 10 KB from server to client.
The matching timewait scenario is `cargo bench --bench churn -- --emit N` (N = 10 x CONNS).

ns-3 has no HTTP client, so each connection is a BulkSendApplication on the server (10 KB,
then close) towards a PacketSink on the client: the server closes first, so TIME_WAIT lands on
the server, where timewait's churn client closes first and holds it. The packet and
connection counts are the same.

    pip install ns3            # not needed by timewait, not run in CI
    /usr/bin/time -v python3 dumbbell_churn.py --conns=1000 --pcap=0
    /usr/bin/time -v python3 dumbbell_churn.py --conns=1000 --pcap=1   # with traces, like
                                                                     # timewait's outputs
"""

import argparse
import sys

from ns import ns

PAIRS = 10
INTERVAL_S = 0.01
BODY = 10_000


def main(argv):
    # argparse, not ns.CommandLine: the PyPI bindings cannot pass an attribute value to
    # CommandLine.AddValue.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conns", type=int, default=1000, help="connections per pair")
    parser.add_argument("--pcap", type=int, default=0, help="1: write pcap traces")
    args = parser.parse_args(argv[1:])
    per_pair = args.conns

    ns.Config.SetDefault("ns3::TcpSocket::SegmentSize", ns.UintegerValue(1448))

    access = ns.PointToPointHelper()
    access.SetDeviceAttribute("DataRate", ns.StringValue("1Gbps"))
    access.SetChannelAttribute("Delay", ns.StringValue("1ms"))
    bottleneck = ns.PointToPointHelper()
    bottleneck.SetDeviceAttribute("DataRate", ns.StringValue("100Mbps"))
    bottleneck.SetChannelAttribute("Delay", ns.StringValue("5ms"))
    d = ns.PointToPointDumbbellHelper(PAIRS, access, PAIRS, access, bottleneck)

    stack = ns.InternetStackHelper()
    d.InstallStack(stack)
    d.AssignIpv4Addresses(
        ns.Ipv4AddressHelper("10.0.0.0", "255.255.255.0"),
        ns.Ipv4AddressHelper("10.1.0.0", "255.255.255.0"),
        ns.Ipv4AddressHelper("10.2.0.0", "255.255.255.0"),
    )
    ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()

    port = 9
    for i in range(PAIRS):
        client, server = d.GetLeft(i), d.GetRight(i)
        sink = ns.PacketSinkHelper(
            "ns3::TcpSocketFactory",
            ns.InetSocketAddress(ns.Ipv4Address.GetAny(), port).ConvertTo(),
        )
        sink.Install(client).Start(ns.Seconds(0))
        dest = ns.InetSocketAddress(d.GetLeftIpv4Address(i), port).ConvertTo()
        for k in range(per_pair):
            bulk = ns.BulkSendHelper("ns3::TcpSocketFactory", dest)
            bulk.SetAttribute("MaxBytes", ns.UintegerValue(BODY))
            app = bulk.Install(server)
            app.Start(ns.Seconds(k * INTERVAL_S))

    if args.pcap:
        access.EnablePcapAll("dumbbell_churn")
    ns.Simulator.Stop(ns.Seconds(per_pair * INTERVAL_S + 5))
    ns.Simulator.Run()
    ns.Simulator.Destroy()


if __name__ == "__main__":
    main(sys.argv)
