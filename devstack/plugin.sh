#!/usr/bin/env bash
# devstack plugin for volmig: installs, configures and starts the compute
# API, the compute service, the volume API and the volume service as four
# processes, with devstack's database, RabbitMQ and Keystone.

VOLMIG_NOVA_URL="$SERVICE_PROTOCOL://$SERVICE_HOST:$VOLMIG_NOVA_PORT/v2.1"
VOLMIG_CINDER_URL="$SERVICE_PROTOCOL://$SERVICE_HOST:$VOLMIG_CINDER_PORT/v3"
# The console scripts: devstack's virtualenv (GLOBAL_VENV) is not on PATH.
VOLMIG_BIN_DIR=$(get_python_exec_prefix)

function install_volmig {
    setup_develop "$VOLMIG_DIR"
    install_package qemu-utils qemu-system-x86 libvirt-daemon-system \
        busybox-static cpio linux-image-cloud-amd64
}

# Writes what both files share: identity, RPC, database, auth, logging,
# and the API's paste file, installed beside the config file under a name
# of its own (both services share the directory).
function _volmig_common_conf {
    local conf=$1 project=$2 port=$3
    local paste=$VOLMIG_CONF_DIR/$project-api-paste.ini
    cp "$VOLMIG_DIR/etc/${project}_volmig/api-paste.ini" "$paste"
    iniset "$conf" DEFAULT api_paste_config "$paste"
    iniset "$conf" DEFAULT host "$(hostname)"
    iniset "$conf" DEFAULT state_path "$VOLMIG_STATE_DIR/$project"
    iniset "$conf" DEFAULT auth_strategy "$VOLMIG_AUTH_STRATEGY"
    iniset "$conf" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$conf" api host "$SERVICE_LISTEN_ADDRESS"
    iniset "$conf" api port "$port"
    iniset "$conf" database connection \
        "$(database_connection_url "volmig_$project")"
    iniset_rpc_backend "volmig_$project" "$conf"
    if [[ "$VOLMIG_AUTH_STRATEGY" == keystone ]]; then
        configure_keystone_authtoken_middleware "$conf" "$project"
        # The other service calls with the caller's token and its own as
        # a service token, which counts only with the service role.
        iniset "$conf" keystone_authtoken service_token_roles service
        iniset "$conf" keystone_authtoken service_token_roles_required True
    fi
}

# How one service calls the other: a keystoneauth1 session from the
# caller's [section], with that caller's service user (for a user's
# request, its token goes as the service token beside the user's).
function _volmig_client_conf {
    local conf=$1 section=$2 user=$3 url=$4
    if [[ "$VOLMIG_AUTH_STRATEGY" == keystone ]]; then
        iniset "$conf" "$section" auth_type password
        iniset "$conf" "$section" auth_url "$KEYSTONE_SERVICE_URI"
        iniset "$conf" "$section" username "$user"
        iniset "$conf" "$section" password "$SERVICE_PASSWORD"
        iniset "$conf" "$section" user_domain_name "$SERVICE_DOMAIN_NAME"
        iniset "$conf" "$section" project_name "$SERVICE_PROJECT_NAME"
        iniset "$conf" "$section" project_domain_name \
            "$SERVICE_DOMAIN_NAME"
        iniset "$conf" "$section" region_name "$REGION_NAME"
    else
        iniset "$conf" "$section" auth_type none
        iniset "$conf" "$section" endpoint_override "$url"
    fi
}

function configure_volmig {
    sudo install -d -o "$STACK_USER" "$VOLMIG_CONF_DIR" \
        "$VOLMIG_STATE_DIR/images"
    local conf backend

    conf=$VOLMIG_NOVA_CONF
    _volmig_common_conf "$conf" nova "$VOLMIG_NOVA_PORT"
    iniset "$conf" compute image_dir "$VOLMIG_STATE_DIR/images"
    iniset "$conf" libvirt virt_type "$LIBVIRT_TYPE"
    _volmig_client_conf "$conf" cinder nova "$VOLMIG_CINDER_URL/admin"
    if [[ "$VOLMIG_AUTH_STRATEGY" == keystone ]]; then
        # Calls for a user name the user's project, not the service's.
        iniset "$conf" cinder endpoint_override \
            "$VOLMIG_CINDER_URL/%(project_id)s"
    fi

    conf=$VOLMIG_CINDER_CONF
    _volmig_common_conf "$conf" cinder "$VOLMIG_CINDER_PORT"
    iniset "$conf" DEFAULT enabled_backends "$VOLMIG_BACKENDS"
    for backend in ${VOLMIG_BACKENDS//,/ }; do
        iniset "$conf" "$backend" volume_backend_name "$backend"
        iniset "$conf" "$backend" volumes_dir \
            "$VOLMIG_STATE_DIR/volumes/$backend"
    done
    _volmig_client_conf "$conf" nova cinder "$VOLMIG_NOVA_URL"
}

# Service users and catalog entries; needs Keystone running.
function create_volmig_accounts {
    if [[ "$VOLMIG_AUTH_STRATEGY" != keystone ]]; then
        return
    fi
    local user
    for user in nova cinder; do
        create_service_user "$user" admin
        get_or_add_user_project_role service "$user" "$SERVICE_PROJECT_NAME"
    done
    get_or_create_service nova compute "volmig compute API"
    get_or_create_endpoint compute "$REGION_NAME" "$VOLMIG_NOVA_URL"
    get_or_create_service cinderv3 block-storage "volmig volume API"
    get_or_create_endpoint block-storage "$REGION_NAME" \
        "$VOLMIG_CINDER_URL/\$(project_id)s"
}

function init_volmig {
    recreate_database volmig_nova
    recreate_database volmig_cinder
    "$VOLMIG_BIN_DIR/nova-volmig-manage" --config-file "$VOLMIG_NOVA_CONF" \
        db sync
    "$VOLMIG_BIN_DIR/cinder-volmig-manage" \
        --config-file "$VOLMIG_CINDER_CONF" db sync
    sudo "$VOLMIG_DIR/tools/build-guest-image.sh" \
        "$VOLMIG_STATE_DIR/images/volmig-guest"
}

function start_volmig {
    local bin=$VOLMIG_BIN_DIR
    # The compute and volume services run libvirt and touch volume files
    # owned by QEMU: they run as root, the APIs as the stack user.
    run_process vm-napi "$bin/nova-volmig-api --config-file $VOLMIG_NOVA_CONF"
    run_process vm-ncpu \
        "$bin/nova-volmig-compute --config-file $VOLMIG_NOVA_CONF" root root
    run_process vm-capi \
        "$bin/cinder-volmig-api --config-file $VOLMIG_CINDER_CONF"
    run_process vm-cvol \
        "$bin/cinder-volmig-volume --config-file $VOLMIG_CINDER_CONF" \
        root root
}

function stop_volmig {
    local service
    for service in vm-napi vm-ncpu vm-capi vm-cvol; do
        stop_process "$service"
    done
}

function cleanup_volmig {
    sudo rm -rf "$VOLMIG_STATE_DIR" "$VOLMIG_CONF_DIR"
}

if is_service_enabled vm-napi vm-ncpu vm-capi vm-cvol; then
    case "$1 $2" in
        "stack install")
            install_volmig
            ;;
        "stack post-config")
            configure_volmig
            create_volmig_accounts
            ;;
        "stack extra")
            init_volmig
            start_volmig
            ;;
        "unstack "*)
            stop_volmig
            ;;
        "clean "*)
            cleanup_volmig
            ;;
    esac
fi
