"""The quorum controller: the only writer of metadata records. Import
`fastkafka.cluster.controller.quorum_controller` directly."""
