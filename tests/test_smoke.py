from tests.conftest import login


def test_admin_sees_the_customer_list(client):
    login(client, "admin")
    response = client.get("/customerview/list/")
    assert response.status_code == 200
