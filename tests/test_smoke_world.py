from tests.conftest import client_for


def test_it_builds_the_world(world):
    assert world.mover.assignments.count() == 2
    response = client_for(world, "owner").get("/o/acme/vendors/")
    assert response.status_code == 200
