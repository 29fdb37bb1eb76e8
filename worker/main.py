"""Worker container entry: runs one instance from the spec in ZK_WORKER_SPEC."""

from ainimal_zookeeper.worker_main import main

if __name__ == "__main__":
    main()
