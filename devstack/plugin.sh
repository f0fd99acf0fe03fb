#!/usr/bin/env bash
# devstack plugin for volmig. Today it runs the embedded default
# (volmig-all-in-one); separate services come with the distributed mode.

function install_volmig {
    setup_develop "$VOLMIG_DIR"
    sudo "$VOLMIG_DIR/tools/start-libvirtd.sh"
}

function configure_volmig {
    sudo mkdir -p "$VOLMIG_STATE_DIR/images"
    sudo "$VOLMIG_DIR/tools/build-guest-image.sh" \
        "$VOLMIG_STATE_DIR/images/volmig-guest"
}

function start_volmig {
    run_process volmig \
        "$(which volmig-all-in-one) --state-dir $VOLMIG_STATE_DIR" root root
}

function stop_volmig {
    stop_process volmig
}

function cleanup_volmig {
    sudo rm -rf "$VOLMIG_STATE_DIR"
}

if is_service_enabled volmig; then
    case "$1 $2" in
        "stack install") install_volmig ;;
        "stack post-config") configure_volmig ;;
        "stack extra") start_volmig ;;
        "unstack "*) stop_volmig ;;
        "clean "*) cleanup_volmig ;;
    esac
fi
